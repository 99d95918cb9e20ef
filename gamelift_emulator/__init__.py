"""Local GameLift FlexMatch emulator speaking the real wire protocol."""
