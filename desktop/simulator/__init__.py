"""A faithful local Cliniko API on loopback, with a sample clinic and fault injection.

Usage: ``with Simulator(size=200, faults=FaultConfig(error_rate=0.05)) as sim:`` then point a
client at ``sim.base_url`` with ``sim.api_key``.
"""

from __future__ import annotations

from desktop.simulator.faults import FaultConfig
from desktop.simulator.simulator import Simulator, demo_api_key, load_patients_json, run_forever

__all__ = ["FaultConfig", "Simulator", "demo_api_key", "load_patients_json", "run_forever"]
