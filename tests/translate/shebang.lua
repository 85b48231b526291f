#!/usr/bin/env aiolua
async function main() await f() end
error("line 3")
