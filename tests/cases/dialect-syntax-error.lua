-- Malformed dialect code: a syntax error naming the file and the line.
async function main()
  local x = await
end
