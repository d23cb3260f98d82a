// Micro-benchmark behind a recommended fix: jsonwebtoken.verify with the HS256 secret as a string
// (what @nestjs/jwt and passport-jwt pass today) vs as a KeyObject. With a string, jsonwebtoken 9
// first tries crypto.createPublicKey(secret), which throws, and only then createSecretKey.
//   node bench/tools/jwt-verify.cjs
const jwt = require('jsonwebtoken');
const { createSecretKey } = require('node:crypto');
const secret = 'bench-jwt-secret-0123456789abcdef';
const token = jwt.sign({ sub: 'u', email: 'e', typ: 'access' }, secret, { algorithm: 'HS256', expiresIn: '1h' });
const key = createSecretKey(Buffer.from(secret));
function bench(label, fn, n = 20000) {
  for (let i = 0; i < 2000; i++) fn();
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  console.log(`${label}: ${(Number(process.hrtime.bigint() - t) / n / 1000).toFixed(1)} µs per verify`);
}
for (let round = 0; round < 2; round++) {
  bench('string secret   ', () => jwt.verify(token, secret, { algorithms: ['HS256'] }));
  bench('KeyObject secret', () => jwt.verify(token, key, { algorithms: ['HS256'] }));
}
