// Helpers of the fault tests (tests/faults/*.test.mjs): a row lock held from outside the
// server, to keep a request in flight for as long as a test needs.
import { spawn } from 'node:child_process';

import { env, sql, sqlExec, randomHex, waitFor } from '../integration/lib/harness.mjs';

const holders = new Set();
// A holder's client would sleep on after this process died: end them with it.
process.on('exit', () => { for (const h of holders) { try { h.proc.kill('SIGKILL'); } catch { /* gone */ } } });

/**
 * Lock the rows `SELECT ... FOR UPDATE` finds in dbName from a separate mariadb session
 * and keep them locked until release() (at most maxS seconds). Resolves once the lock
 * is held. release() ends the session on the server (KILL), so the lock is gone when it
 * returns.
 */
export async function holdRowLock(dbName, select, { maxS = 300 } = {}) {
  const tag = `faults_holder_${randomHex(6)}`;
  const proc = spawn('mariadb', ['--no-defaults', '-S', env.dbSocket, '-uroot', '-N', '-B', '-D', dbName], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  const h = { proc, tag };
  holders.add(h);
  proc.on('close', () => holders.delete(h));
  proc.stdin.end(`START TRANSACTION; ${select} FOR UPDATE; SELECT SLEEP(${maxS}) AS ${tag};\n`);
  const sessionId = () => sql(null, 'SELECT ID FROM information_schema.PROCESSLIST ' +
    `WHERE INFO LIKE '%${tag}%' AND INFO NOT LIKE '%PROCESSLIST%'`)[0]?.[0];
  await waitFor(sessionId, { what: 'the lock holder to sleep' });
  h.release = async () => {
    const sid = sessionId();
    if (sid) {
      try { sqlExec(null, `KILL ${sid}`); } catch { /* ended meanwhile */ }
    }
    try { proc.kill('SIGKILL'); } catch { /* gone */ }
    await waitFor(() => !sessionId(), { what: 'the lock holder session to end' });
  };
  return h;
}
