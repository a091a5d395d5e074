"""Face geometry: detection records, face crops and framing, landmark templates and alignment."""
