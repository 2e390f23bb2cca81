// SPDX-License-Identifier: MIT
// node upload.js http|fetch URL BODY_FILE TRIES: posts the file TRIES
// times, each on a new connection, with Node's http module or its fetch(),
// and prints one line per try: "status CODE", or "error: WHAT".
'use strict';
const fs = require('fs');
const http = require('http');

const [api, url, bodyFile, triesText] = process.argv.slice(2);
const body = fs.readFileSync(bodyFile);

function postWithHttp() {
  return new Promise((resolve, reject) => {
    const request = http.request(url, {
      method: 'POST',
      agent: false,
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length },
    }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.setTimeout(30000, () => request.destroy(new Error('timeout')));
    request.end(body);
  });
}

async function postWithFetch() {
  const response = await fetch(url, {
    method: 'POST',
    body,
    headers: { 'Content-Type': 'application/octet-stream', Connection: 'close' },
    signal: AbortSignal.timeout(30000),
  });
  await response.arrayBuffer();
  return response.status;
}

(async () => {
  for (let i = 0; i < Number(triesText); i++) {
    try {
      console.log('status', await (api === 'fetch' ? postWithFetch() : postWithHttp()));
    } catch (error) {
      const cause = error.cause ? ` (${error.cause.code || error.cause.message})` : '';
      console.log('error:', `${error.code || error.message}${cause}`);
    }
  }
})();
