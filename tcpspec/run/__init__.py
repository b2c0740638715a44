"""Running checks: one model through an engine (pipeline), many models and properties as jobs (gate), project configuration."""
