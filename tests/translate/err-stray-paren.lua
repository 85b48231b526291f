await x)
