file(REMOVE_RECURSE
  "libte_pure.a"
)
