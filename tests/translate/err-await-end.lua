async function f()
  await
end
