"""Stand-ins of outside services that ship with the project, for local play and the tests.

Nothing here imports an application package: each stand-in speaks only its protocol.
"""
