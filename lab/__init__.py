"""This repository's lab: the report builders, ship-into-assets steps and peer measurements (not in the wheel)."""
