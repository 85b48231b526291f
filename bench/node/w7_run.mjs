// w7_run.mjs -- W7b on Node.js: run an empty async main.
async function main() {}
await main();
