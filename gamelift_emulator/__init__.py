"""Local GameLift FlexMatch emulator speaking the real wire protocol.

``python -m gamelift_emulator`` serves it; ``Emulator`` runs it in-process;
``EmulatorControl`` drives its ``/_emulator/`` control API.
"""

from gamelift_emulator.client import EmulatorControl, EmulatorControlError
from gamelift_emulator.clock import ManualClock, SystemClock
from gamelift_emulator.models import EmulatorSettings
from gamelift_emulator.server import Emulator

__all__ = [
    "Emulator",
    "EmulatorControl",
    "EmulatorControlError",
    "EmulatorSettings",
    "ManualClock",
    "SystemClock",
]
