#!/usr/bin/env node
// After tsc: copies the data files the compiled library reads at run time (lib/anchors/*.json, the public reference
// runs that `modprop train|compare --anchor` draws) to the same place under dist/, so dist/cli/anchor.js finds them
// at ../anchors/ exactly as lib/cli/anchor.ts does under tsx.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const ASSETS = ['anchors'];

let copied = 0;
for (const dir of ASSETS) {
  const from = path.join(root, 'lib', dir);
  const to = path.join(root, 'dist', dir);
  fs.mkdirSync(to, { recursive: true });
  for (const name of fs.readdirSync(from)) {
    if (!name.endsWith('.json')) continue;
    fs.copyFileSync(path.join(from, name), path.join(to, name));
    copied += 1;
  }
}
console.log(`copy-assets: ${copied} file${copied === 1 ? '' : 's'} copied to dist/`);
