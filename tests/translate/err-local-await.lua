local await = 1
