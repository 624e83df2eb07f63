// The build script (`npm run build`): renders page.md to public/index.html with marked, a devDependency
// that the buildpack prunes once the build is done.
'use strict';
const fs = require('fs');
const { marked } = require('marked');

fs.mkdirSync('public', { recursive: true });
fs.writeFileSync('public/index.html', marked.parse(fs.readFileSync('page.md', 'utf8')));
console.log('rendered page.md to public/index.html');
