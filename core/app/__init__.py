"""The application facade front-ends call, and the one record → view mapping."""
