
async x = 1
