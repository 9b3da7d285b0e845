# Empty compiler generated dependencies file for te_pure.
# This may be replaced when dependencies are built.
