// Draws the dashboard's app icons (web/icons/icon-192.png and icon-512.png, committed): two
// white waves, an ebbing tide, on the accent blue. No image library: RGB pixels, zlib from
// Node, and the PNG chunks written by hand.
//
//   node scripts/icons.mjs
import { deflateSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (bytes) => {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

function icon(size) {
  const blue = [0x24, 0x57, 0xc5];
  const white = [0xff, 0xff, 0xff];
  // One filter byte (0: none) before each row of RGB pixels.
  const raw = Buffer.alloc(size * (1 + 3 * size));
  for (let y = 0; y < size; y++) {
    raw[y * (1 + 3 * size)] = 0;
    for (let x = 0; x < size; x++) {
      const u = x / size;
      const v = y / size;
      const wave = (centre, amplitude, width) =>
        Math.abs(v - (centre + amplitude * Math.sin(2 * Math.PI * (1.25 * u + 0.1)))) < width;
      // Inside the maskable safe zone (the middle 80%), so launchers may crop to a circle.
      const inside = u > 0.14 && u < 0.86;
      const on = inside && (wave(0.42, 0.07, 0.045) || wave(0.62, 0.05, 0.03));
      const [r, g, b] = on ? white : blue;
      const at = y * (1 + 3 * size) + 1 + 3 * x;
      raw[at] = r;
      raw[at + 1] = g;
      raw[at + 2] = b;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const dir = resolve(import.meta.dirname, '../web/icons');
for (const size of [192, 512]) writeFileSync(`${dir}/icon-${size}.png`, icon(size));
