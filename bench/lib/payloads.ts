/** A Sendblue receive webhook: message `i` from one of `contacts` numbers. */
export function sendbluePayload(i: number, contacts: number, content = `bench message ${i}`): string {
  const number = `+1555${String(1_000_000 + (i % contacts)).slice(1)}`;
  return JSON.stringify({
    accountEmail: 'bench@example.com', content, is_outbound: false, status: 'RECEIVED', error_code: null,
    error_message: null, message_handle: `BENCH-${process.pid}-${i}`, date_sent: new Date().toISOString(),
    date_updated: new Date().toISOString(), from_number: number, number, to_number: '+15122164639',
    was_downgraded: false, plan: 'dedicated', media_url: '', message_type: 'message', service: 'iMessage',
  });
}
