print("hello from script", ...)
