// Drive every operation of the running stack through the TypeScript client that
// @hey-api/openapi-ts generates from openapi.yaml (fetch client, defaults), through its types only.
// scripts/test's client step generates ./client next to a copy of this file, type-checks both
// (tsc --noEmit, strict), compiles and runs it with API_URL and DEMO_PASSWORD.
import { createClient, createConfig } from './client/client';
import type { Client } from './client/client';
import * as api from './client/sdk.gen';
import type * as T from './client/types.gen';

const API_URL = (process.env.API_URL ?? '').replace(/\/$/, '');
const PASSWORD = process.env.DEMO_PASSWORD ?? '';
const RUN = Math.random().toString(16).slice(2, 14);
const operations = new Set<string>();

function fail(message: string): never {
  throw new Error(message);
}

// The answer of one call: the status the document promises, and its data.
function check<D>(name: string, result: { data?: D; error?: unknown; response?: Response }, status: number): D {
  operations.add(name);
  const got = result.response?.status;
  if (got !== status || result.data === undefined) {
    fail(`${name}: ${got} ${JSON.stringify(result.error ?? result.data)}`);
  }
  return result.data;
}

function assert(condition: boolean, message: string): void {
  if (!condition) fail(message);
}

async function loggedIn(who: string): Promise<Client> {
  const anonymous = createClient(createConfig({ baseUrl: API_URL }));
  const answer: T.LoginResponse = check('login', await api.login({ client: anonymous, body: { login: who, password: PASSWORD } }), 200);
  assert(answer.login === who && answer.token.startsWith('Bearer '), `login: ${JSON.stringify(answer)}`);
  // tokenAuth is an API key in Authorization: the token goes out as the login gave it.
  return createClient(createConfig({ baseUrl: API_URL, auth: answer.token }));
}

async function main(): Promise<void> {
  if (!API_URL || !PASSWORD) fail('API_URL and DEMO_PASSWORD are needed');
  const integrator = await loggedIn('integrator');
  const gateway = await loggedIn('gateway');
  const customer = `ts-client-${RUN}`;
  const phone = `+4478${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;

  // --- messages ------------------------------------------------------------------------------
  const toDeviceBody: T.OutgoingToDeviceRequest = {
    text: 'Hello on WhatsApp',
    clientApplicationDescriptor: { channelType: 'WHATSAPP', deviceAddress: phone, clientId: customer },
  };
  const toDevice: T.OutgoingMessageResponse = check('sendOutgoingToDevice', await api.sendOutgoingToDevice({ client: integrator, body: toDeviceBody }), 200);
  assert(toDevice.clientExternalId === customer, `sendOutgoingToDevice: ${JSON.stringify(toDevice)}`);
  const outgoing: T.OutgoingMessageRequest = {
    text: 'Your order has shipped',
    clientId: customer,
    attachments: [{ url: 'https://example.com/invoice.pdf', name: 'invoice.pdf', size: 48213 }],
  };
  const sent: T.OutgoingMessageResponse = check(
    'sendOutgoing',
    await api.sendOutgoing({ client: integrator, body: outgoing, headers: { 'Idempotency-Key': `ts-${RUN}` } }),
    200,
  );
  assert(sent.threadId === toDevice.threadId && sent.clientId === toDevice.clientId, `sendOutgoing: ${JSON.stringify(sent)}`);
  const incomingBody: T.IncomingMessageRequest = {
    text: 'Where is it now?',
    providerMessageId: `wamid.ts-${RUN}`,
    applicationDescriptor: { channelType: 'WHATSAPP', deviceAddress: phone },
  };
  const incoming: T.IncomingMessageResponse = check('receiveIncoming', await api.receiveIncoming({ client: gateway, body: incomingBody }), 200);
  assert(incoming.threadId === sent.threadId, `receiveIncoming: ${JSON.stringify(incoming)}`);
  const status: T.MessageStatus = check(
    'updateMessageStatus',
    await api.updateMessageStatus({ client: gateway, path: { id: sent.id }, body: { status: 'READ' } }),
    200,
  );
  assert(status.status === 'READ' && status.id === sent.id, `updateMessageStatus: ${JSON.stringify(status)}`);

  // --- threads -------------------------------------------------------------------------------
  const thread: T.Thread = check('getThread', await api.getThread({ client: integrator, path: { threadId: sent.threadId } }), 200);
  assert(thread.status === 'OPEN' && thread.messageCount === 3, `getThread: ${JSON.stringify(thread)}`);
  const page: T.MessagePage = check(
    'listThreadMessages',
    await api.listThreadMessages({ client: integrator, path: { threadId: sent.threadId }, query: { limit: 2 } }),
    200,
  );
  assert(page.items.map((m) => m.id).join() === `${incoming.id},${sent.id}` && page.nextCursor !== null, `listThreadMessages: ${JSON.stringify(page)}`);

  // --- SuperOffice ---------------------------------------------------------------------------
  const session: T.ChatSession = check(
    'createChatSession',
    await api.createChatSession({ client: integrator, body: { CustomerAlias: `Ts ${RUN}` } }),
    201,
  );
  assert(session.Status === 'Chatting', `createChatSession: ${JSON.stringify(session)}`);
  const message: T.ChatMessageInput = { Message: 'Hello from TypeScript' };
  const posted: T.ChatMessage = check(
    'postChatMessage',
    await api.postChatMessage({ client: integrator, path: { chatSessionId: session.ChatSessionId }, body: message }),
    200,
  );
  assert(posted.Message === 'Hello from TypeScript' && posted.Type === 'ToCustomer', `postChatMessage: ${JSON.stringify(posted)}`);
  const got: T.ChatSession = check('getChatSession', await api.getChatSession({ client: integrator, path: { chatSessionId: session.ChatSessionId } }), 200);
  assert(got.MessageCount === 1, `getChatSession: ${JSON.stringify(got)}`);
  const listed: T.ArrayOfChatMessage = check(
    'listChatMessages',
    await api.listChatMessages({ client: integrator, path: { chatSessionId: session.ChatSessionId } }),
    200,
  );
  assert(listed.length === 1 && listed[0]?.ChatMessageId === posted.ChatMessageId, `listChatMessages: ${JSON.stringify(listed)}`);
  const closed: T.Thread = check('closeThread', await api.closeThread({ client: integrator, path: { threadId: sent.threadId } }), 200);
  assert(closed.status === 'CLOSED', `closeThread: ${JSON.stringify(closed)}`);

  // --- webhooks and events -------------------------------------------------------------------
  const since = new Date(Date.now() - 5 * 60_000).toISOString();
  const request: T.WebhookRequest = { url: 'http://127.0.0.1:9/x', events: ['thread.closed'], description: `ts ${RUN}` };
  const hook: T.WebhookWithSecret = check('createWebhook', await api.createWebhook({ client: integrator, body: request }), 201);
  assert(hook.secret.startsWith('whsec_') && hook.url === request.url, `createWebhook: ${JSON.stringify(hook)}`);
  const hooks: T.WebhookList = check('listWebhooks', await api.listWebhooks({ client: integrator }), 200);
  assert(hooks.items.some((h) => h.id === hook.id), 'listWebhooks: the new subscription is missing');
  const one: T.Webhook = check('getWebhook', await api.getWebhook({ client: integrator, path: { id: hook.id } }), 200);
  assert(one.id === hook.id && one.status === 'ENABLED', `getWebhook: ${JSON.stringify(one)}`);
  const rotated: T.WebhookWithSecret = check('rotateWebhookSecret', await api.rotateWebhookSecret({ client: integrator, path: { id: hook.id } }), 200);
  assert(rotated.secret !== hook.secret, 'rotateWebhookSecret: same secret');
  const deliveries: T.WebhookDeliveryPage = check(
    'listWebhookDeliveries',
    await api.listWebhookDeliveries({ client: integrator, path: { id: hook.id }, query: { limit: 10 } }),
    200,
  );
  assert(Array.isArray(deliveries.items), 'listWebhookDeliveries: no items');
  const replay: T.ReplayRequest = { since, until: new Date().toISOString() };
  const replayed: T.ReplayResponse = check('replayWebhook', await api.replayWebhook({ client: integrator, path: { id: hook.id }, body: replay }), 202);
  assert(replayed.replayed >= 0, `replayWebhook: ${JSON.stringify(replayed)}`);
  const events: T.EventPage = check('listEvents', await api.listEvents({ client: integrator, query: { limit: 5 } }), 200);
  assert(events.nextCursor.length > 0, 'listEvents: no cursor');
  const deleted: T.Webhook = check('deleteWebhook', await api.deleteWebhook({ client: integrator, path: { id: hook.id } }), 200);
  assert(deleted.id === hook.id, `deleteWebhook: ${JSON.stringify(deleted)}`);
  const gone = await api.getWebhook({ client: integrator, path: { id: hook.id } });
  assert(gone.response.status === 404, `getWebhook after delete: ${gone.response.status}`);

  // --- web chat ------------------------------------------------------------------------------
  const visitorRequest: T.VisitorRequest = { clientId: customer, name: 'TS Client' };
  const visitor: T.Visitor = check('createVisitor', await api.createVisitor({ client: integrator, body: visitorRequest }), 201);
  assert(
    visitor.visitorToken.startsWith('vt_') && visitor.clientExternalId === customer && visitor.deviceAddress === `visitor-${visitor.clientId}`,
    `createVisitor: ${JSON.stringify(visitor)}`,
  );

  console.error(`typescript client: ${operations.size} operations answered as documented`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
