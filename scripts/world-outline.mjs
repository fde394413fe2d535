// Writes the map's world outline (backend/web/src/ui/static/world-land.path): Natural Earth's 1:110m land
// polygons (public domain), from the npm package world-atlas (ISC), projected equirectangularly onto a 720×360
// box (x = 2·(longitude + 180), y = 2·(90 − latitude)) as one SVG path, one decimal per coordinate.
//
// Run once, where the npm registry is reachable:
//   mkdir /tmp/wa && cd /tmp/wa && npm install world-atlas@2.0.2 topojson-client@3.1.0 \
//     && node /path/to/mirrorvane/scripts/world-outline.mjs > /path/to/mirrorvane/backend/web/src/ui/static/world-land.path
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const require = createRequire(join(process.cwd(), "package.json"));
const { feature } = require("topojson-client");
const land = JSON.parse(readFileSync(require.resolve("world-atlas/land-110m.json"), "utf8"));
const geo = feature(land, land.objects.land);

const r = (v) => Math.round(v * 10) / 10;
const parts = [];
for (const f of geo.features ?? [geo]) {
  const g = f.geometry;
  const polygons = g.type === "Polygon" ? [g.coordinates] : g.coordinates;
  for (const polygon of polygons) {
    for (const ring of polygon) {
      let d = "";
      let prev = null;
      for (const [lon, lat] of ring) {
        const p = [r(2 * (lon + 180)), r(2 * (90 - lat))];
        if (prev && p[0] === prev[0] && p[1] === prev[1]) continue;
        d += (d ? "L" : "M") + p[0] + " " + p[1];
        prev = p;
      }
      parts.push(d + "Z");
    }
  }
}
process.stdout.write(parts.join("") + "\n");
