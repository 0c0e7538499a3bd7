"""The one door to the machine: a Context of runner, file system, NVML and network, live or recorded (replay)."""
