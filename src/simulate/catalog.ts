/**
 * The simulated system: Online Boutique's services, their operations, the calls each operation
 * makes, and the log lines each service writes: the default topology (topology.ts has the
 * others). Static data only; model.ts compiles it.
 */
import type { SeededRng } from '../telemetry/index.js';

export type Lang = 'go' | 'csharp' | 'node' | 'python' | 'java' | 'redis' | 'locust';

/** What a log template may use besides the generator. */
export interface LogCtx {
  /** duration of the span being logged, ms */
  ms: number;
  /** operation name of the span */
  op: string;
  /** fraction of the memory limit in use (memory logs) */
  memFrac: number;
  memLimitMiB: number;
  /** requests/s and failure share seen by the load generator's stats line */
  rps: number;
  failShare: number;
  // One user request's own values, the same in every line of its trace.
  user: string;
  product: string;
  currency: string;
  email: string;
  order: string;
  qty: number;
}

export type Tpl = (r: SeededRng, c: LogCtx) => string;

export interface ServiceDef {
  name: string;
  lang: Lang;
  port: number;
  replicas: [number, number];
  /** working set at rest, MiB */
  memMiB: number;
  /** extra working set per request/s, MiB */
  memPerRps: number;
  /** memory limit as a multiple of memMiB */
  memLimitX: number;
  /** CPU used with no traffic, cores */
  idleCpu: number;
  /** share of the CPU limit the service uses at normal load (capacity sizing) */
  util: [number, number];
  /** background (untraced) log lines per minute per pod */
  bgPerMin: number;
  background: Tpl[];
  startup: Tpl[];
  exception: Tpl;
  oom: Tpl;
  memWarn: Tpl;
}

export interface CallDef {
  /** callee operation key, `service op` */
  to: string;
  min: number;
  max: number;
  /** the caller degrades gracefully when this call fails (logs a warning, carries on) */
  optional?: boolean;
  timeoutMs: number;
  /** what the caller was doing, for its error line */
  action: string;
}

export interface OpDef {
  service: string;
  name: string;
  kind: 'client' | 'http' | 'grpc' | 'redis';
  /** own work at zero load, ms */
  ownMs: number;
  reqBytes: number;
  respBytes: number;
  calls: CallDef[];
  /** info lines written by a successful span, each with probability infoP */
  info: Tpl[];
  infoP: number;
  /** what a caller logs when this operation hands back wrong data */
  wrongData: Tpl;
}

export interface EntryDef {
  /** load generator operation key */
  op: string;
  /** share of the request rate */
  weight: number;
  /** sampled traces per minute at load 1 */
  tracesPerMin: number;
}

// ---- parameters of log lines ---------------------------------------------------------------

export const PRODUCTS = ['OLJCESPC7Z', '66VCHSJNUP', '1YMWWN1N4O', 'L9ECAV7KIM', '2ZYFJ3GM2N', '0PUK6V6EV0', 'LS4PSXUNUM', '9SIQT8TOJO', '6E92ZMYYFZ'];
const CURRENCIES = ['USD', 'EUR', 'JPY', 'GBP', 'CAD', 'TRY'];
const CARDS = ['visa', 'mastercard', 'amex'];
const WORDS = ['clothing', 'accessories', 'footwear', 'hair', 'decor', 'kitchen', 'vintage', 'cycling', 'photography'];
const NAMES = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory', 'oscar'];

export const pid = (r: SeededRng) => r.pick(PRODUCTS);
export const cur = (r: SeededRng) => r.pick(CURRENCIES);
export const uuid = (r: SeededRng) => {
  const h = r.hex(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
};
export const email = (r: SeededRng) => `${r.pick(NAMES)}${r.int(100)}@example.com`;
const money = (r: SeededRng) => (r.uniform(5, 400)).toFixed(2);
const ms = (c: LogCtx) => (c.ms < 10 ? c.ms.toFixed(2) : String(Math.round(c.ms)));

// ---- services ------------------------------------------------------------------------------

const goPanic: Tpl = (r, c) => `panic recovered in ${c.op}: runtime error: invalid memory address or nil pointer dereference [goroutine ${r.intBetween(20, 900)}]`;
const goOom: Tpl = (r, c) => `runtime: out of memory: cannot allocate ${r.intBetween(1, 64) * 8192}-byte block (${Math.round(c.memFrac * c.memLimitMiB)} MiB in use)`;
const goMemWarn: Tpl = (_r, c) => `memory usage high: heap ${Math.round(c.memFrac * c.memLimitMiB)}MiB of ${c.memLimitMiB}MiB (${Math.round(c.memFrac * 100)}%)`;
const nodeExc: Tpl = (r) => `TypeError: Cannot read properties of undefined (reading '${r.pick(['units', 'nanos', 'currencyCode', 'amount'])}') at ${r.pick(['convert', '_carry', 'getSupportedCurrencies', 'charge'])} (/usr/src/app/server.js:${r.intBetween(40, 220)}:${r.intBetween(5, 40)})`;
const nodeOom: Tpl = () => 'RangeError: Array buffer allocation failed';
const nodeMemWarn: Tpl = (_r, c) => `heap usage at ${Math.round(c.memFrac * 100)}% of ${c.memLimitMiB}MB, scavenge took ${Math.round(20 + c.memFrac * 200)}ms`;
const pyExc: Tpl = (r, c) => `Exception in ${c.op}: KeyError: '${r.pick(['product_ids', 'email', 'order', 'context'])}'`;
const pyOom: Tpl = (_r, c) => `MemoryError while handling ${c.op}`;
const pyMemWarn: Tpl = (_r, c) => `resident memory ${Math.round(c.memFrac * c.memLimitMiB)}MiB exceeds ${Math.round(c.memFrac * 100) - 1}% of the limit`;

export const SERVICES: ServiceDef[] = [
  {
    name: 'loadgenerator', lang: 'locust', port: 8089, replicas: [1, 1], memMiB: 140, memPerRps: 0.5, memLimitX: 3, idleCpu: 0.02, util: [0.3, 0.4],
    bgPerMin: 1,
    background: [(_r, c) => `Aggregated: ${Math.round(c.rps * 60)} requests in the last 60s, ${(c.failShare * 100).toFixed(2)}% failures, ${c.rps.toFixed(1)} req/s`],
    startup: [() => 'Starting web interface at http://0.0.0.0:8089', () => 'Starting Locust 2.20.0'],
    exception: pyExc, oom: pyOom, memWarn: pyMemWarn,
  },
  {
    name: 'frontend', lang: 'go', port: 8080, replicas: [2, 3], memMiB: 48, memPerRps: 0.4, memLimitX: 2.6, idleCpu: 0.004, util: [0.22, 0.32],
    bgPerMin: 0, background: [],
    startup: [() => 'starting server on :8080', () => 'service config: productcatalogservice:3550 currencyservice:7000 cartservice:7070 recommendationservice:8080 shippingservice:50051 checkoutservice:5050 adservice:9555'],
    exception: goPanic, oom: goOom, memWarn: goMemWarn,
  },
  {
    name: 'cartservice', lang: 'csharp', port: 7070, replicas: [1, 3], memMiB: 150, memPerRps: 0.8, memLimitX: 2.2, idleCpu: 0.008, util: [0.2, 0.3],
    bgPerMin: 0.5, background: [() => 'Checking CartService Health'],
    startup: [() => 'Now listening on: http://0.0.0.0:7070', () => 'Application started. Press Ctrl+C to shut down.', () => 'Connecting to Redis: redis-cart:6379,ssl=false,allowAdmin=true,connectRetry=5'],
    exception: (r) => `System.NullReferenceException: Object reference not set to an instance of an object. at cartservice.cartstore.RedisCartStore.${r.pick(['GetCartAsync', 'AddItemAsync', 'EmptyCartAsync'])}(String userId) in /app/cartstore/RedisCartStore.cs:line ${r.intBetween(80, 240)}`,
    oom: () => 'System.OutOfMemoryException: Insufficient memory to continue the execution of the program.',
    memWarn: (_r, c) => `GC heap size ${Math.round(c.memFrac * c.memLimitMiB)}MB, gen2 collections increasing`,
  },
  {
    name: 'productcatalogservice', lang: 'go', port: 3550, replicas: [1, 3], memMiB: 36, memPerRps: 0.2, memLimitX: 2.5, idleCpu: 0.003, util: [0.22, 0.32],
    bgPerMin: 0.2, background: [() => 'successfully parsed product catalog json'],
    startup: [() => 'successfully parsed product catalog json', () => 'starting grpc server at :3550'],
    exception: goPanic, oom: goOom, memWarn: goMemWarn,
  },
  {
    name: 'currencyservice', lang: 'node', port: 7000, replicas: [1, 3], memMiB: 70, memPerRps: 0.2, memLimitX: 2.4, idleCpu: 0.005, util: [0.22, 0.32],
    bgPerMin: 0, background: [],
    startup: [() => 'Profiler disabled.', () => 'Tracing enabled.', () => 'Starting CurrencyService on port 7000...'],
    exception: nodeExc, oom: nodeOom, memWarn: nodeMemWarn,
  },
  {
    name: 'paymentservice', lang: 'node', port: 50051, replicas: [1, 2], memMiB: 64, memPerRps: 0.3, memLimitX: 2.4, idleCpu: 0.003, util: [0.18, 0.3],
    bgPerMin: 0, background: [],
    startup: [() => 'Profiler disabled.', () => 'PaymentService gRPC server started on port 50051'],
    exception: nodeExc, oom: nodeOom, memWarn: nodeMemWarn,
  },
  {
    name: 'shippingservice', lang: 'go', port: 50051, replicas: [1, 2], memMiB: 28, memPerRps: 0.2, memLimitX: 2.5, idleCpu: 0.002, util: [0.18, 0.3],
    bgPerMin: 0, background: [],
    startup: [() => 'Shipping Service listening on port 50051'],
    exception: goPanic, oom: goOom, memWarn: goMemWarn,
  },
  {
    name: 'emailservice', lang: 'python', port: 8080, replicas: [1, 2], memMiB: 82, memPerRps: 0.6, memLimitX: 2.2, idleCpu: 0.004, util: [0.16, 0.28],
    bgPerMin: 0, background: [],
    startup: [() => 'starting the email service in dummy mode.', () => 'listening on port: 8080'],
    exception: pyExc, oom: pyOom, memWarn: pyMemWarn,
  },
  {
    name: 'checkoutservice', lang: 'go', port: 5050, replicas: [1, 2], memMiB: 32, memPerRps: 0.3, memLimitX: 2.5, idleCpu: 0.002, util: [0.18, 0.3],
    bgPerMin: 0, background: [],
    startup: [() => 'starting to listen on tcp: "[::]:5050"'],
    exception: goPanic, oom: goOom, memWarn: goMemWarn,
  },
  {
    name: 'recommendationservice', lang: 'python', port: 8080, replicas: [1, 2], memMiB: 96, memPerRps: 0.6, memLimitX: 2.2, idleCpu: 0.006, util: [0.2, 0.3],
    bgPerMin: 0, background: [],
    startup: [() => 'initializing recommendationservice', () => 'listening on port: 8080'],
    exception: pyExc, oom: pyOom, memWarn: pyMemWarn,
  },
  {
    name: 'adservice', lang: 'java', port: 9555, replicas: [1, 2], memMiB: 310, memPerRps: 1, memLimitX: 1.9, idleCpu: 0.012, util: [0.2, 0.32],
    bgPerMin: 0.6,
    background: [(r) => {
      const a = r.intBetween(90_000, 180_000);
      return `[GC (Allocation Failure) ${a}K->${Math.round(a * r.uniform(0.3, 0.5))}K(${a + r.intBetween(40_000, 90_000)}K), ${r.uniform(0.002, 0.02).toFixed(7)} secs]`;
    }],
    startup: [() => 'AdService starting.', () => 'Ad Service started, listening on 9555'],
    exception: (r) => `java.lang.NullPointerException: Cannot invoke "hipstershop.Demo$Ad.getRedirectUrl()" because "ad" is null at hipstershop.AdService.getAdsByCategory(AdService.java:${r.intBetween(150, 260)})`,
    oom: () => 'java.lang.OutOfMemoryError: Java heap space',
    memWarn: (r, c) => `[Full GC (Ergonomics) ${Math.round(c.memFrac * c.memLimitMiB * 1024)}K->${Math.round(c.memFrac * c.memLimitMiB * 1000)}K, ${r.uniform(0.2, 1.5).toFixed(7)} secs]`,
  },
  {
    name: 'redis-cart', lang: 'redis', port: 6379, replicas: [1, 1], memMiB: 24, memPerRps: 0.1, memLimitX: 3, idleCpu: 0.003, util: [0.12, 0.2],
    bgPerMin: 0.8,
    background: [
      (r) => `${r.intBetween(1, 400)} changes in 60 seconds. Saving...`,
      (r) => `Background saving started by pid ${r.intBetween(20, 9000)}`,
      () => 'DB saved on disk',
      () => 'Background saving terminated with success',
    ],
    startup: [() => 'Redis version=7.2.4, bits=64, commit=00000000, modified=0, pid=1, just started', () => 'Ready to accept connections tcp'],
    exception: () => 'ERR unknown command', oom: () => "OOM command not allowed when used memory > 'maxmemory'.",
    memWarn: (_r, c) => `WARNING: used memory ${Math.round(c.memFrac * c.memLimitMiB)}mb is close to maxmemory ${c.memLimitMiB}mb`,
  },
];

// ---- operations ----------------------------------------------------------------------------

const FE = 'frontend';
const call = (to: string, action: string, min = 1, max = min, optional = false, timeoutMs = 2500): CallDef => ({ to, min, max, optional, timeoutMs, action });

export const OPS: OpDef[] = [
  // Load generator: the client side of every user request, the root of each trace.
  ...([
    ['GET /', 'GET /'],
    ['GET /product/{id}', 'GET /product/{id}'],
    ['GET /cart', 'GET /cart'],
    ['POST /cart', 'POST /cart'],
    ['POST /cart/checkout', 'POST /cart/checkout'],
    ['POST /setCurrency', 'POST /setCurrency'],
  ] as const).map(([name, fe]): OpDef => ({
    service: 'loadgenerator', name, kind: 'client', ownMs: 0.4, reqBytes: 300, respBytes: 200,
    calls: [call(`${FE} ${fe}`, `request ${fe}`, 1, 1, false, 10_000)], info: [], infoP: 0,
    wrongData: () => `${name}: response body did not contain the expected page`,
  })),

  {
    service: FE, name: 'GET /', kind: 'http', ownMs: 4, reqBytes: 600, respBytes: 11_000,
    calls: [
      call('currencyservice GetSupportedCurrencies', 'retrieve currencies'),
      call('productcatalogservice ListProducts', 'retrieve products'),
      call('cartservice GetCart', 'retrieve cart'),
      call('currencyservice Convert', 'convert price', 2, 4),
      call('adservice GetAds', 'retrieve ads', 1, 1, true),
    ],
    info: [(_r, c) => `GET / served in ${ms(c)}ms`, (_r, c) => `serving home page with ${PRODUCTS.length} products in ${c.currency}`], infoP: 0.9,
    wrongData: () => 'home page rendered without products',
  },
  {
    service: FE, name: 'GET /product/{id}', kind: 'http', ownMs: 3.5, reqBytes: 600, respBytes: 8_000,
    calls: [
      call('productcatalogservice GetProduct', 'retrieve product'),
      call('currencyservice GetSupportedCurrencies', 'retrieve currencies'),
      call('cartservice GetCart', 'retrieve cart'),
      call('currencyservice Convert', 'convert price'),
      call('recommendationservice ListRecommendations', 'get recommendations', 1, 1, true),
      call('adservice GetAds', 'retrieve ads', 1, 1, true),
    ],
    info: [(_r, c) => `GET /product/${c.product} served in ${ms(c)}ms`], infoP: 0.9,
    wrongData: (_r, c) => `product page for ${c.product} has no price`,
  },
  {
    service: FE, name: 'GET /cart', kind: 'http', ownMs: 3, reqBytes: 600, respBytes: 7_000,
    calls: [
      call('currencyservice GetSupportedCurrencies', 'retrieve currencies'),
      call('cartservice GetCart', 'retrieve cart'),
      call('recommendationservice ListRecommendations', 'get recommendations', 1, 1, true),
      call('shippingservice GetQuote', 'get shipping quote'),
      call('productcatalogservice GetProduct', 'retrieve product', 1, 3),
      call('currencyservice Convert', 'convert price', 1, 3),
    ],
    info: [(_r, c) => `GET /cart served in ${ms(c)}ms`, (_r, c) => `serving cart page with ${c.qty} items`], infoP: 0.9,
    wrongData: () => 'cart page rendered with an empty cart',
  },
  {
    service: FE, name: 'POST /cart', kind: 'http', ownMs: 2, reqBytes: 700, respBytes: 300,
    calls: [call('productcatalogservice GetProduct', 'retrieve product'), call('cartservice AddItem', 'add to cart')],
    info: [(_r, c) => `adding ${c.qty} x ${c.product} to cart of user ${c.user}`], infoP: 0.9,
    wrongData: () => 'redirect after add-to-cart lost the session',
  },
  {
    service: FE, name: 'POST /cart/checkout', kind: 'http', ownMs: 4, reqBytes: 1_200, respBytes: 6_000,
    calls: [
      call('checkoutservice PlaceOrder', 'complete the order', 1, 1, false, 6_000),
      call('recommendationservice ListRecommendations', 'get recommendations', 1, 1, true),
    ],
    info: [(r, c) => `order placed: ${c.order} (${c.qty} items, total ${c.currency} ${money(r)})`], infoP: 1,
    wrongData: () => 'order confirmation page is missing the order id',
  },
  {
    service: FE, name: 'POST /setCurrency', kind: 'http', ownMs: 1.5, reqBytes: 500, respBytes: 250, calls: [],
    info: [(_r, c) => `setting currency to ${c.currency}`], infoP: 0.9,
    wrongData: () => 'currency cookie not set',
  },

  {
    service: 'checkoutservice', name: 'hipstershop.CheckoutService/PlaceOrder', kind: 'grpc', ownMs: 3, reqBytes: 900, respBytes: 1_500,
    calls: [
      call('cartservice GetCart', 'get user cart during checkout', 1, 1, false, 1_500),
      call('productcatalogservice GetProduct', 'get product', 1, 3, false, 1_500),
      call('currencyservice Convert', 'convert currency', 1, 3, false, 1_500),
      call('shippingservice GetQuote', 'get shipping quote', 1, 1, false, 1_500),
      call('currencyservice Convert', 'convert shipping cost', 1, 1, false, 1_500),
      call('paymentservice Charge', 'charge card', 1, 1, false, 1_500),
      call('shippingservice ShipOrder', 'ship order', 1, 1, false, 1_500),
      call('cartservice EmptyCart', 'empty user cart during checkout', 1, 1, false, 1_500),
      call('emailservice SendOrderConfirmation', 'send order confirmation', 1, 1, true, 1_500),
    ],
    info: [
      (_r, c) => `[PlaceOrder] user_id="${c.user}" user_currency="${c.currency}"`,
      (r) => `payment went through (transaction_id: ${uuid(r)})`,
      (_r, c) => `order confirmation email sent to "${c.email}"`,
    ],
    infoP: 1,
    wrongData: () => 'order result is missing the shipping tracking id',
  },
  {
    service: 'cartservice', name: 'hipstershop.CartService/GetCart', kind: 'grpc', ownMs: 2.5, reqBytes: 120, respBytes: 400,
    calls: [call('redis-cart HGET', 'read cart', 1, 1, false, 1_000)],
    info: [(_r, c) => `GetCartAsync called with userId=${c.user}`], infoP: 0.8,
    wrongData: (r, c) => `cart of user ${c.user} has item ${c.product} with quantity -${r.intBetween(1, 9)}`,
  },
  {
    service: 'cartservice', name: 'hipstershop.CartService/AddItem', kind: 'grpc', ownMs: 3, reqBytes: 200, respBytes: 50,
    calls: [call('redis-cart HGET', 'read cart', 1, 1, false, 1_000), call('redis-cart HSET', 'write cart', 1, 1, false, 1_000)],
    info: [(_r, c) => `AddItemAsync called with userId=${c.user}, productId=${c.product}, quantity=${c.qty}`], infoP: 0.8,
    wrongData: (_r, c) => `cart update acknowledged but cart of ${c.user} is unchanged`,
  },
  {
    service: 'cartservice', name: 'hipstershop.CartService/EmptyCart', kind: 'grpc', ownMs: 2, reqBytes: 120, respBytes: 50,
    calls: [call('redis-cart HSET', 'write cart', 1, 1, false, 1_000)],
    info: [(_r, c) => `EmptyCartAsync called with userId=${c.user}`], infoP: 0.8,
    wrongData: (_r, c) => `cart of user ${c.user} still holds items after EmptyCart`,
  },
  {
    service: 'redis-cart', name: 'HGET', kind: 'redis', ownMs: 0.3, reqBytes: 90, respBytes: 350, calls: [], info: [], infoP: 0,
    wrongData: (_r, c) => `failed to deserialize cart for ${c.user}: unexpected end of stream`,
  },
  {
    service: 'redis-cart', name: 'HSET', kind: 'redis', ownMs: 0.35, reqBytes: 350, respBytes: 40, calls: [], info: [], infoP: 0,
    wrongData: () => 'redis HSET returned 0 fields written for an existing cart',
  },
  {
    service: 'productcatalogservice', name: 'hipstershop.ProductCatalogService/ListProducts', kind: 'grpc', ownMs: 1.6, reqBytes: 60, respBytes: 3_200,
    calls: [], info: [], infoP: 0,
    wrongData: (r) => `catalog returned ${r.intBetween(2, 6)} products with duplicate ids`,
  },
  {
    service: 'productcatalogservice', name: 'hipstershop.ProductCatalogService/GetProduct', kind: 'grpc', ownMs: 0.9, reqBytes: 80, respBytes: 420,
    calls: [], info: [], infoP: 0,
    wrongData: (r, c) => `retrieved product ${c.product} has an invalid price: ${c.currency} -${money(r)}`,
  },
  {
    service: 'currencyservice', name: 'hipstershop.CurrencyService/GetSupportedCurrencies', kind: 'grpc', ownMs: 1.2, reqBytes: 40, respBytes: 260,
    calls: [], info: [() => 'Getting supported currencies...'], infoP: 0.3,
    wrongData: () => 'supported currencies list is empty',
  },
  {
    service: 'currencyservice', name: 'hipstershop.CurrencyService/Convert', kind: 'grpc', ownMs: 1.4, reqBytes: 90, respBytes: 70,
    calls: [], info: [() => 'conversion request successful'], infoP: 0.3,
    wrongData: (r, c) => `currency conversion returned an invalid amount: units=-${r.intBetween(1, 999)} nanos=${r.intBetween(0, 999_999_999)} currency_code="${c.currency}"`,
  },
  {
    service: 'paymentservice', name: 'hipstershop.PaymentService/Charge', kind: 'grpc', ownMs: 4, reqBytes: 300, respBytes: 80,
    calls: [], info: [(r, c) => `Transaction processed: ${r.pick(CARDS)} ending ${r.intBetween(1000, 9999)} Amount: ${c.currency}${money(r)}`], infoP: 1,
    wrongData: (_r, c) => `payment returned an empty transaction id for order ${c.order}`,
  },
  {
    service: 'shippingservice', name: 'hipstershop.ShippingService/GetQuote', kind: 'grpc', ownMs: 1, reqBytes: 200, respBytes: 60,
    calls: [], info: [() => '[GetQuote] received request', () => '[GetQuote] completed request'], infoP: 0.7,
    wrongData: (r, c) => `shipping quote is negative: ${c.currency} -${money(r)}`,
  },
  {
    service: 'shippingservice', name: 'hipstershop.ShippingService/ShipOrder', kind: 'grpc', ownMs: 1.5, reqBytes: 300, respBytes: 60,
    calls: [], info: [() => '[ShipOrder] received request', (r) => `[ShipOrder] completed request, tracking id ${r.chars('ABCDEFGHJKLMNPQRSTUVWXYZ', 2)}-${r.intBetween(10000, 99999)}-${r.intBetween(1000000, 9999999)}`], infoP: 0.8,
    wrongData: (_r, c) => `empty tracking id returned for order ${c.order}`,
  },
  {
    service: 'emailservice', name: 'hipstershop.EmailService/SendOrderConfirmation', kind: 'grpc', ownMs: 9, reqBytes: 900, respBytes: 30,
    calls: [], info: [(_r, c) => `A request to send order confirmation email to ${c.email} has been received.`], infoP: 1,
    wrongData: () => 'email service reported success without a message id',
  },
  {
    service: 'recommendationservice', name: 'hipstershop.RecommendationService/ListRecommendations', kind: 'grpc', ownMs: 4.5, reqBytes: 150, respBytes: 200,
    calls: [call('productcatalogservice ListProducts', 'list products', 1, 1, false, 1_000)],
    info: [(r) => `[Recv ListRecommendations] product_ids=['${pid(r)}', '${pid(r)}', '${pid(r)}', '${pid(r)}']`], infoP: 0.9,
    wrongData: (r) => `recommendations contain unknown product id ${r.chars('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', 10)}`,
  },
  {
    service: 'adservice', name: 'hipstershop.AdService/GetAds', kind: 'grpc', ownMs: 2.5, reqBytes: 100, respBytes: 350,
    calls: [], info: [(r) => `received ad request (context_words=[${r.pick(WORDS)}])`], infoP: 0.9,
    wrongData: (r) => `ad response missing redirect url for ${r.intBetween(1, 3)} ads`,
  },
];

// Frontend operations are addressed by their route; gRPC ones by their method's short name.
export function opKey(op: OpDef): string {
  const i = op.name.lastIndexOf('/');
  const short = op.kind === 'grpc' && i >= 0 ? op.name.slice(i + 1) : op.name;
  return `${op.service} ${short}`;
}

export const ENTRIES: EntryDef[] = [
  { op: 'loadgenerator GET /', weight: 0.34, tracesPerMin: 9 },
  { op: 'loadgenerator GET /product/{id}', weight: 0.34, tracesPerMin: 9 },
  { op: 'loadgenerator GET /cart', weight: 0.1, tracesPerMin: 4 },
  { op: 'loadgenerator POST /cart', weight: 0.1, tracesPerMin: 4 },
  { op: 'loadgenerator POST /cart/checkout', weight: 0.06, tracesPerMin: 3 },
  { op: 'loadgenerator POST /setCurrency', weight: 0.06, tracesPerMin: 2 },
];

/** User requests per second at load 1 (the "normal" regime at the daily mean). */
export const BASE_RPS = 40;

/** Operations' error lines in the caller's language, by failure kind. */
export type CallFailure = 'refused' | 'reset' | 'deadline' | 'internal' | 'unavailable' | 'wrong';

export function callErrorLine(callerLang: Lang, action: string, callee: string, port: number, kind: CallFailure, peerIp: string, r: SeededRng): string {
  const hostPort = `${callee}:${port}`;
  if (callerLang === 'csharp') {
    const cmd = action === 'read cart' ? 'HGET' : 'HSET';
    if (kind === 'refused') return `StackExchange.Redis.RedisConnectionException: No connection is available to service this operation: ${cmd} cart; UnableToConnect on ${hostPort}/Interactive, connection refused`;
    if (kind === 'reset' || kind === 'unavailable') return `StackExchange.Redis.RedisConnectionException: SocketFailure on ${hostPort}/Interactive, Idle/Faulted, last: ${cmd}, origin: ReadFromPipe, outstanding: ${r.intBetween(1, 9)}`;
    if (kind === 'deadline') return `StackExchange.Redis.RedisTimeoutException: Timeout performing ${cmd} (1000ms), inst: ${r.intBetween(0, 4)}, qu: 0, qs: ${r.intBetween(1, 30)}, ${hostPort}`;
    if (kind === 'internal') return `StackExchange.Redis.RedisServerException: ${cmd} failed: OOM command not allowed when used memory > 'maxmemory'.`;
    return `Can't access cart storage. ${action} returned malformed data from ${hostPort}`;
  }
  if (callerLang === 'python') {
    const code = kind === 'deadline' ? 'DEADLINE_EXCEEDED' : kind === 'internal' ? 'UNKNOWN' : 'UNAVAILABLE';
    const details = kind === 'refused' ? `failed to connect to all addresses; last error: UNKNOWN: ipv4:${peerIp}:${port}: Failed to connect to remote host: Connection refused`
      : kind === 'deadline' ? 'Deadline Exceeded' : kind === 'internal' ? 'Exception calling application' : 'Socket closed';
    if (kind === 'wrong') return `failed to ${action}: unexpected response from ${callee}`;
    return `failed to ${action}: <_InactiveRpcError of RPC that terminated with: status = StatusCode.${code} details = "${details}">`;
  }
  if (callerLang === 'locust') {
    if (kind === 'refused' || kind === 'reset' || kind === 'unavailable') return `${action}: ConnectionError: HTTPConnectionPool(host='${callee}', port=${port}): Max retries exceeded (Caused by NewConnectionError: [Errno 111] Connection refused)`;
    if (kind === 'deadline') return `${action}: ReadTimeout: HTTPConnectionPool(host='${callee}', port=${port}): Read timed out. (read timeout=10)`;
    if (kind === 'internal') return `${action}: HTTPError('500 Server Error: Internal Server Error for url: http://${hostPort}/')`;
    return `${action}: response body did not contain the expected page`;
  }
  // Go (frontend, checkout), the default.
  if (kind === 'refused') return `failed to ${action}: rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial tcp ${peerIp}:${port}: connect: connection refused" (${hostPort})`;
  if (kind === 'reset') return `failed to ${action}: rpc error: code = Unavailable desc = error reading from server: read tcp ${peerIp}:${port}: read: connection reset by peer (${hostPort})`;
  if (kind === 'unavailable') return `failed to ${action}: rpc error: code = Unavailable desc = upstream connect error or disconnect/reset before headers (${hostPort})`;
  if (kind === 'deadline') return `failed to ${action}: rpc error: code = DeadlineExceeded desc = context deadline exceeded (${hostPort})`;
  if (kind === 'internal') return `failed to ${action}: rpc error: code = Unknown desc = exception in ${callee} (${hostPort})`;
  return `failed to ${action}: invalid response from ${hostPort}`;
}

export function slowLine(lang: Lang, op: string, tookMs: number, thresholdMs: number): string {
  const took = Math.round(tookMs);
  if (lang === 'java') return `slow request ${op}: ${took} ms (threshold ${thresholdMs} ms)`;
  if (lang === 'python') return `request ${op} took ${took}ms, longer than ${thresholdMs}ms`;
  if (lang === 'csharp') return `Request ${op} finished in ${took}ms, exceeding ${thresholdMs}ms`;
  if (lang === 'node') return `slow request: ${op} took ${took}ms`;
  return `slow request: ${op} took ${took}ms (threshold ${thresholdMs}ms)`;
}

export function retryLine(op: string, callee: string, attempt: number): string {
  return `retrying ${callee} ${op} after transient error (attempt ${attempt})`;
}

export function overloadLine(lang: Lang, op: string, queued: number): string {
  if (lang === 'java') return `io.grpc.StatusRuntimeException: RESOURCE_EXHAUSTED: ${op} rejected, ${queued} requests queued`;
  if (lang === 'redis') return `client output buffer overcommitted, ${queued} commands pending`;
  return `request ${op} rejected: server overloaded (${queued} requests queued)`;
}
