"""The domain: what a job is and what is allowed. Pure: no I/O, no third-party imports."""
