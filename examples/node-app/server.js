// A Node.js buildpack app (no Dockerfile, no Procfile): `npm start` serves on $PORT.
//   /       a greeting (config GREETING changes it)
//   /page   the page the build script rendered
//   /deps   ms, a dependency, at work, and whether marked, a devDependency, was pruned from the slug
'use strict';
const fs = require('fs');
const http = require('http');
const ms = require('ms');

function pruned(name) {
  try {
    require.resolve(name);
    return 'no';
  } catch {
    return 'yes';
  }
}

const server = http.createServer((request, response) => {
  let type = 'text/plain; charset=utf-8';
  let body;
  if (request.url === '/page') {
    type = 'text/html; charset=utf-8';
    body = fs.readFileSync('public/index.html');
  } else if (request.url === '/deps') {
    body = `ms says 90000 ms is ${ms(90000)}; marked pruned: ${pruned('marked')}\n`;
  } else {
    body = `${process.env.GREETING || 'Hello'} from a Node.js app on Pier\n`;
  }
  response.writeHead(200, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  response.end(body);
});

server.listen(Number(process.env.PORT || 5000), '0.0.0.0');
// As PID 1's child under npm, SIGTERM must end the server, or every stop waits for SIGKILL.
process.on('SIGTERM', () => server.close(() => process.exit(0)));
