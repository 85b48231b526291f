local async = 1
