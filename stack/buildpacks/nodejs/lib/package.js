// Reads the app's package.json for the Node.js buildpack, with the stack's own Node.js and Debian's semver.
//   node package.js check DIR      validates package.json, checks engines.node (and engines.npm) against the stack
//   node package.js scripts DIR    prints which of the scripts the build runs are defined, one a line
//   node package.js startable DIR  exits 0 when `npm start` can start the app (a start script or server.js)
// package.json is user input: every problem ends in one line saying what to change, and exit code 1.
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const semver = require('semver');

const MAX_BYTES = 5 * 1024 * 1024;
// The scripts the build runs, and those npm runs for the app itself during an install.
const BUILD_SCRIPTS = ['heroku-prebuild', 'heroku-postbuild', 'build', 'preinstall', 'install', 'postinstall',
                       'prepare'];

function refuse(message) {
  console.log(` !     ${message}`);
  process.exit(1);
}

function lineAndColumn(text, position) {
  const before = text.slice(0, position).split('\n');
  return `line ${before.length}, column ${before[before.length - 1].length + 1}`;
}

function read(dir) {
  const file = path.join(dir, 'package.json');
  const stat = fs.lstatSync(file);
  if (!stat.isFile()) refuse('package.json must be a regular file');
  if (stat.size > MAX_BYTES) refuse(`package.json is ${stat.size} bytes; a package.json over 5 MiB is refused`);
  const text = fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  let data;
  try {
    data = JSON.parse(text);
  } catch (error) {
    const at = /at position (\d+)/.exec(error.message);
    const where = at ? ` (${lineAndColumn(text, Number(at[1]))})` : '';
    refuse(`package.json is not valid JSON: ${error.message}${where}`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    refuse('package.json must hold a JSON object, such as {"name": "app", "dependencies": {}}');
  }
  for (const field of ['scripts', 'engines', 'dependencies', 'devDependencies']) {
    const value = data[field];
    if (value !== undefined && (value === null || typeof value !== 'object' || Array.isArray(value))) {
      refuse(`package.json's "${field}" must be an object`);
    }
  }
  for (const [name, command] of Object.entries(data.scripts || {})) {
    if (typeof command !== 'string') refuse(`package.json's script "${name.slice(0, 60)}" must be a string`);
  }
  return data;
}

function shown(value) {
  return JSON.stringify(String(value).slice(0, 80));
}

function checkEngine(engines, name, current, hard) {
  const range = engines[name];
  const tool = name === 'node' ? 'Node.js' : 'npm';
  const major = semver.major(current);
  if (range === undefined) return `the stack's ${tool} ${current}`;
  if (typeof range !== 'string' || semver.validRange(range) === null) {
    refuse(`engines.${name} ${shown(range)} is not a version range (for example "${major}.x" or ">=${major}")`);
  }
  if (semver.satisfies(current, range)) return `the stack's ${tool} ${current} (engines.${name} ${shown(range)})`;
  const asked = `package.json asks for ${tool} ${shown(range)} (engines.${name})`;
  if (hard) {
    refuse(`${asked}, and this stack has ${tool} ${current} only: change engines.${name} to a range ${current} ` +
           `meets, such as "${major}.x", or set BUILDPACK_URL to a buildpack that installs ${tool}`);
  }
  // npm only runs the build: a mismatch is worth a warning, not a failed push.
  console.log(` !     ${asked}; building with the stack's npm ${current}`);
  return `the stack's ${tool} ${current}`;
}

function check(dir) {
  const data = read(dir);
  const engines = data.engines || {};
  const node = checkEngine(engines, 'node', process.versions.node, true);
  const npmVersion = execFileSync('npm', ['--version'], { encoding: 'utf8' }).trim();
  const npm = checkEngine(engines, 'npm', npmVersion, false);
  console.log(`-----> Using ${node} and ${npm}`);
}

const [command, dir] = process.argv.slice(2);
if (command === 'check') {
  check(dir);
} else if (command === 'scripts') {
  const scripts = read(dir).scripts || {};
  for (const name of BUILD_SCRIPTS) if (Object.hasOwn(scripts, name)) console.log(name);
} else if (command === 'startable') {
  const scripts = read(dir).scripts || {};
  process.exit(Object.hasOwn(scripts, 'start') || fs.existsSync(path.join(dir, 'server.js')) ? 0 : 1);
} else {
  console.error('usage: package.js check|scripts|startable DIR');
  process.exit(2);
}
