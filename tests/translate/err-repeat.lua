repeat
  await x
end
