"""A local stand-in for Azure Resource Manager: the resource types aksvend uses, served over HTTPS to the real Azure
SDK clients, with AKS's rules, long-running operations, throttling, faults and events. See docs/emulator.md."""

from .app import Emulator, EmulatorThread
from .settings import EmulatorSettings

__all__ = ["Emulator", "EmulatorSettings", "EmulatorThread"]
