await x
end
