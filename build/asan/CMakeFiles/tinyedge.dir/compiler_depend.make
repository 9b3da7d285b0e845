# Empty compiler generated dependencies file for tinyedge.
# This may be replaced when dependencies are built.
