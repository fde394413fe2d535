-- wrk request mix: popular repositories from the dataset's repos.txt, clients spread over the IPv4 space
-- (GeoIP decides their country) plus the dataset's netblock/ASN clients. ENDPOINT = "metalink" or "mirrorlist".
local endpoint = os.getenv("ENDPOINT") or "metalink"
local data = os.getenv("DATA")
local repos, clients = {}, {}
for line in io.lines(data .. "/repos.txt") do
  local prefix, arch, popular = line:match("^(%S+) (%S+) (%d)")
  if prefix and popular == "1" then table.insert(repos, "repo=" .. prefix .. "&arch=" .. arch) end
end
for line in io.lines(data .. "/special_clients.txt") do
  local ip = line:match("^(%S+) ")
  if ip and not line:match("^#") then table.insert(clients, ip) end
end
math.randomseed(42)
for i = 1, 2000 do
  table.insert(clients, string.format("%d.%d.%d.%d", math.random(1, 223), math.random(0, 255), math.random(0, 255), math.random(1, 254)))
end
local paths = {}
for i = 1, 4096 do
  local repo = repos[math.random(#repos)]
  local ip = clients[math.random(#clients)]
  paths[i] = "/" .. endpoint .. "?" .. repo .. "&ip=" .. ip .. "&countme=1"
end
local n = 0
request = function()
  n = n % #paths + 1
  return wrk.format("GET", paths[n])
end
