# No outputs: the module instances are generated, so nothing here can name
# them statically. Each environment's stack carries the
# preview_environment_id:<id> label instead.
