/**
 * Deterministic, realistic IOC Stream notifications for tests, the demo and the benchmarks.
 *
 * Items are generated lazily from (seed, index): a 100k dataset is never held in memory. Per seed, the
 * slow-to-build parts (engine list, word pools, rule sets, collections) are prepared once; per item a
 * cheap PRNG varies the values. Same (seed, index) gives byte-identical JSON.
 *
 * Shapes follow the public documentation and nothing else:
 * - Items and their context attributes: "Get objects from the IoC Stream",
 *   https://docs.virustotal.com/reference/get-objects-from-the-ioc-stream — items are files, URLs,
 *   domains and IP addresses (`ITEM_TYPES`); `context_attributes` are `notification_id`,
 *   `notification_date`, `origin`, `sources`, `tags` and, only for hunting origin, `hunting_info`
 *   with `rule_name, rule_tags, snippet, source_country, source_key`.
 * - `match_in_subfile` is documented only inside the `hunting_info` of the separate IoC Stream
 *   Notification object (`GET /ioc_stream_notifications/{id}`,
 *   https://docs.virustotal.com/reference/ioc-stream-notifications), not among the ioc_stream
 *   item's context attributes: the generator never writes it.
 * - Source types: Collection, Hunting ruleset, Retrohunt job, Threat Actor ("IoC Stream",
 *   https://gtidocs.virustotal.com/docs/ioc-stream; `source_type:` filter values in REFERENCE.md).
 *   Collections and threat actors are *sources* of a notification about one of the four item
 *   types, never items themselves.
 * - Each item's `links.self` is its object's API URL (`/api/v3/files|urls|domains|ip_addresses/{id}`).
 * Object `attributes` are shaped like GTI's (see REFERENCE.md) with synthetic values; a few extra
 * keys in the demo exist only to exercise empty-value cleaning.
 */
import { createHash } from 'node:crypto';
import type { JsonObject, JsonValue } from '../shared/core/json.js';
import type { Notification, NotificationSource } from '../shared/gti/notification.js';

export interface Dataset {
  readonly size: number;
  /** notification_date of item `index`, computed without generating the item. */
  dateOf(index: number): number;
  get(index: number): Notification;
}

export interface GeneratedDatasetOptions {
  count: number;
  /** Default 1. */
  seed?: number;
  /** notification_date of index 0 (unix seconds). Default 1767225600 (2026-01-01T00:00:00Z). */
  startSeconds?: number;
  /** Average spacing between notifications in seconds. Default 2. Several items regularly share a second. */
  secondsPerNotification?: number;
  /** Every Nth notification is a 300 KB+ file notification. Default 500; 0 = none. */
  oversizedEvery?: number;
}

export const DEFAULT_START_SECONDS = 1767225600;

// ---------------------------------------------------------------------------------------------
// PRNG

/** 32-bit integer hash (murmur3 finaliser) used to derive per-item PRNG states. */
function mix32(value: number): number {
  let h = value | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function stateFor(seed: number, index: number, salt: number): number {
  return mix32(mix32(mix32(seed ^ 0x9e3779b9) ^ index) ^ Math.imul(salt, 0x27d4eb2d));
}

const HEX = '0123456789abcdef';

/** mulberry32: small, fast, good enough for synthetic data. */
export class Rng {
  private state: number;
  constructor(state: number) {
    this.state = state >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Float in [0, 1). */
  float(): number {
    return this.next() / 4294967296;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }
  chance(p: number): boolean {
    return this.float() < p;
  }
  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
  hex(length: number): string {
    let out = '';
    while (out.length < length) {
      let word = this.next();
      for (let i = 0; i < 8 && out.length < length; i++) {
        out += HEX[word & 15];
        word >>>= 4;
      }
    }
    return out;
  }
  digits(length: number): string {
    let out = String(1 + this.int(9));
    while (out.length < length) out += String(this.int(10));
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Vocabulary (synthetic; shaped like what GTI returns)

const ENGINES = [
  'Bkav',
  'Lionic',
  'Elastic',
  'MicroWorld-eScan',
  'ClamAV',
  'CTX',
  'CAT-QuickHeal',
  'Skyhigh',
  'ALYac',
  'Malwarebytes',
  'Zillya',
  'Sangfor',
  'K7AntiVirus',
  'K7GW',
  'CrowdStrike',
  'Baidu',
  'VirIT',
  'Symantec',
  'tehtris',
  'ESET-NOD32',
  'TrendMicro-HouseCall',
  'Avast',
  'Cynet',
  'Kaspersky',
  'BitDefender',
  'NANO-Antivirus',
  'SUPERAntiSpyware',
  'Tencent',
  'Emsisoft',
  'F-Secure',
  'DrWeb',
  'VIPRE',
  'TrendMicro',
  'SentinelOne',
  'Trapmine',
  'FireEye',
  'Sophos',
  'Ikarus',
  'Jiangmin',
  'Webroot',
  'Google',
  'Avira',
  'Antiy-AVL',
  'Kingsoft',
  'Gridinsoft',
  'Xcitium',
  'Arcabit',
  'ViRobot',
  'ZoneAlarm',
  'GData',
  'Varist',
  'AhnLab-V3',
  'Acronis',
  'McAfee',
  'MAX',
  'DeepInstinct',
  'VBA32',
  'Cylance',
  'Zoner',
  'Rising',
  'Yandex',
  'TACHYON',
  'MaxSecure',
  'Fortinet',
  'AVG',
  'Cybereason',
  'Panda',
  'alibabacloud',
  'huorong',
  'Microsoft',
] as const;

const FAMILIES = [
  'AgentTesla',
  'Emotet',
  'QakBot',
  'RedLine',
  'LummaStealer',
  'CobaltStrike',
  'AsyncRAT',
  'Remcos',
  'IcedID',
  'SocGholish',
  'Formbook',
  'NjRAT',
  'PlugX',
  'ShadowPad',
  'Mimikatz',
  'Sliver',
  'DarkGate',
  'Raccoon',
  'Vidar',
  'BumbleBee',
  'LockBit',
  'BlackCat',
  'Akira',
  'GootLoader',
  'Pikabot',
] as const;

const PREFIXES = [
  'Trojan',
  'Backdoor',
  'TrojanSpy',
  'Ransom',
  'HackTool',
  'Downloader',
  'Worm',
  'PWS',
  'Exploit',
];
const PLATFORMS = ['Win32', 'Win64', 'MSIL', 'Linux', 'Script', 'VBA', 'JS', 'PDF', 'Android'];

const FILE_KINDS = [
  { tags: ['peexe', 'executable', 'windows', 'win32', 'pe'], desc: 'Win32 EXE', ext: 'exe', pe: true },
  { tags: ['pedll', 'executable', 'windows', 'win32', 'pe'], desc: 'Win32 DLL', ext: 'dll', pe: true },
  { tags: ['peexe', 'assembly', 'executable', 'windows', 'pe'], desc: 'Win32 EXE', ext: 'exe', pe: true },
  { tags: ['elf', 'executable', 'linux'], desc: 'ELF', ext: 'elf', pe: false },
  { tags: ['docx', 'msoffice', 'macros'], desc: 'Office Open XML Document', ext: 'docm', pe: false },
  { tags: ['pdf', 'document'], desc: 'PDF', ext: 'pdf', pe: false },
  { tags: ['zip', 'compressed'], desc: 'ZIP', ext: 'zip', pe: false },
  { tags: ['javascript', 'text'], desc: 'JavaScript', ext: 'js', pe: false },
  { tags: ['powershell', 'text'], desc: 'Powershell', ext: 'ps1', pe: false },
  { tags: ['lnk', 'windows'], desc: 'Windows shortcut', ext: 'lnk', pe: false },
] as const;

/** File-name stems, some unicode (Cyrillic, CJK, Arabic, accents, emoji). */
const NAME_STEMS = [
  'invoice',
  'setup',
  'update',
  'payload',
  'loader',
  'Rechnung_Ñ',
  'счёт_фактура',
  '发票_2026',
  '請求書',
  'فاتورة',
  'reçu_paiement',
  'contrato_añejo',
  'résumé',
  'scan_document',
  'PO_8841',
  'svchost',
  'chrome_update',
  'readme',
  'Überweisung',
  '📄_statement',
  'payroll_Q1',
  'ΠΑΡΑΓΓΕΛΙΑ',
  'zamówienie',
];

const TLDS = ['com', 'net', 'org', 'ru', 'cn', 'top', 'xyz', 'info', 'io', 'de', 'br', 'shop', 'online'];
const WORDS = [
  'secure',
  'login',
  'update',
  'cdn',
  'cloud',
  'verify',
  'account',
  'mail',
  'portal',
  'service',
  'files',
  'share',
  'docs',
  'office',
  'micro',
  'soft',
  'pay',
  'bank',
  'track',
  'static',
  'api',
  'auth',
  'sync',
  'box',
];
const COUNTRIES = ['US', 'DE', 'RU', 'CN', 'NL', 'FR', 'GB', 'BR', 'IN', 'KR', 'JP', 'SG', 'UA', 'IR', 'TR'];
const AS_OWNERS = [
  'CLOUDFLARENET',
  'AMAZON-02',
  'OVH SAS',
  'DIGITALOCEAN-ASN',
  'Hetzner Online GmbH',
  'GOOGLE-CLOUD-PLATFORM',
  'Chinanet',
  'LLC Baxet',
  'Selectel',
  'M247 Europe SRL',
  'Contabo GmbH',
  'Aéza International Ltd',
];
const REGISTRARS = [
  'NameCheap, Inc.',
  'GoDaddy.com, LLC',
  'REG.RU LLC',
  'Alibaba Cloud Computing',
  'Tucows Domains Inc.',
  '',
];
const TITLES = [
  'Sign in to your account',
  'Вход в систему',
  '登录',
  'Document partagé',
  'Microsoft 365',
  'Verify your identity',
  'Paiement sécurisé',
  'Index of /',
  '',
  'Rückerstattung – Ihre Bestätigung',
  'تسجيل الدخول',
  'Ⓜ️ Mailbox full',
];
const THREAT_ACTORS = [
  'APT28',
  'APT29',
  'APT41',
  'FIN7',
  'UNC2452',
  'Lazarus Group',
  'Sandworm Team',
  'Turla',
  'UNC3944',
  'Kimsuky',
];
const RULE_TAGS = [
  'apt',
  'crimeware',
  'loader',
  'stealer',
  'ransomware',
  'webshell',
  'phishing',
  'c2',
  'tlp_amber',
];
const NOTIF_TAGS = ['high-priority', 'triage', 'watchlist', 'vip-brand', 'retro', 'weekly-review'];
const SANDBOXES = [
  'Zenbox',
  'C2AE',
  'Dr.Web vxCube',
  'Lastline',
  'VMRay',
  'Yomi Hunter',
  'CAPE Sandbox',
  'Microsoft Sysinternals',
];
const SIGMA_RULES = [
  'Suspicious PowerShell Download Cradle',
  'Scheduled Task Creation',
  'Process Injection via CreateRemoteThread',
  'Disable Windows Defender Real-Time Protection',
  'Credential Dumping via LSASS Access',
  'Registry Run Key Persistence',
];
const YARA_SOURCES = [
  'https://github.com/elastic/protections-artifacts',
  'https://github.com/Neo23x0/signature-base',
  'https://github.com/mandiant/red_team_tool_countermeasures',
  'https://github.com/bartblaze/Yara-rules',
];
const DLLS = [
  'KERNEL32.dll',
  'USER32.dll',
  'ADVAPI32.dll',
  'WS2_32.dll',
  'WININET.dll',
  'SHELL32.dll',
  'ole32.dll',
  'ntdll.dll',
  'CRYPT32.dll',
  'msvcrt.dll',
];
const API_FUNCS = [
  'VirtualAlloc',
  'VirtualProtect',
  'CreateProcessW',
  'WriteProcessMemory',
  'CreateRemoteThread',
  'LoadLibraryA',
  'GetProcAddress',
  'RegSetValueExW',
  'InternetOpenUrlA',
  'HttpSendRequestW',
  'CryptEncrypt',
  'GetTickCount',
  'Sleep',
  'CreateFileW',
  'ReadFile',
  'WriteFile',
  'ExitProcess',
  'GetModuleHandleW',
  'socket',
  'connect',
  'send',
  'recv',
  'ShellExecuteW',
  'FindFirstFileW',
  'CoCreateInstance',
  'IsDebuggerPresent',
  'OpenProcess',
];
const SECTION_NAMES = [
  '.text',
  '.rdata',
  '.data',
  '.rsrc',
  '.reloc',
  '.pdata',
  '.tls',
  'UPX0',
  'UPX1',
  '.themida',
];

/**
 * The item types `GET /ioc_stream` returns, and the only values of its `entity_type:` filter
 * (https://docs.virustotal.com/reference/get-objects-from-the-ioc-stream).
 */
export const ITEM_TYPES = ['file', 'url', 'domain', 'ip_address'] as const;
export type ItemType = (typeof ITEM_TYPES)[number];

/** Source types of a notification (`sources[].type`, the `source_type:` filter values). */
export const SOURCE_TYPES = ['hunting_ruleset', 'retrohunt_job', 'collection', 'threat_actor'] as const;

/** The `hunting_info` keys the ioc_stream page documents, exactly (hunting origin only). */
export const HUNTING_INFO_KEYS = [
  'rule_name',
  'rule_tags',
  'snippet',
  'source_country',
  'source_key',
] as const;

const TYPE_WEIGHTS: ReadonlyArray<[ItemType, number]> = [
  ['file', 0.72],
  ['url', 0.12],
  ['domain', 0.1],
  ['ip_address', 0.06],
];

// ---------------------------------------------------------------------------------------------
// Per-seed templates

interface EngineTemplate {
  engine_name: string;
  engine_version: string;
  engine_update: string;
  method: string;
}

interface RuleSet {
  id: string;
  label: string;
  rules: string[];
}

interface CollectionRef {
  id: string;
  label: string;
  type: 'collection' | 'threat_actor';
}

interface Templates {
  engines: EngineTemplate[];
  rulesets: RuleSet[];
  retrohunts: { id: string; label: string }[];
  collections: CollectionRef[];
}

const templateCache = new Map<number, Templates>();

function templatesFor(seed: number): Templates {
  const cached = templateCache.get(seed);
  if (cached) return cached;
  const rng = new Rng(stateFor(seed, 0x7fffffff, 1));
  const engines = ENGINES.map((name) => ({
    engine_name: name,
    engine_version: `${rng.range(1, 24)}.${rng.range(0, 20)}.${rng.range(0, 9999)}.${rng.range(0, 99)}`,
    engine_update: `2025${String(rng.range(10, 12))}${String(rng.range(10, 28))}`,
    method: 'blacklist',
  }));
  const rulesets: RuleSet[] = [];
  for (let i = 0; i < 8; i++) {
    const family = rng.pick(FAMILIES);
    rulesets.push({
      id: rng.digits(16),
      label: i === 3 ? 'Détection – Ransomware ✓' : `${family} hunting${i % 2 ? ' (prod)' : ''}`,
      rules: [`${family}_loader_v${i}`, `${family}_strings`, `MAL_${family}_${rng.hex(4)}`],
    });
  }
  const retrohunts = [0, 1].map(() => ({
    id: `${rng.hex(8)}-${rng.digits(10)}`,
    label: `retrohunt ${rng.pick(FAMILIES)}`,
  }));
  const collections: CollectionRef[] = [];
  for (let i = 0; i < 6; i++) {
    const actor = i % 2 === 0;
    collections.push({
      id: actor ? `threat-actor--${uuid(rng)}` : rng.hex(64),
      label: actor ? rng.pick(THREAT_ACTORS) : `${rng.pick(FAMILIES)} IOCs`,
      type: actor ? 'threat_actor' : 'collection',
    });
  }
  const templates = { engines, rulesets, retrohunts, collections };
  templateCache.set(seed, templates);
  return templates;
}

function uuid(rng: Rng): string {
  const h = rng.hex(32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
}

// ---------------------------------------------------------------------------------------------
// Item builders

function pickType(rng: Rng): ItemType {
  const r = rng.float();
  let acc = 0;
  for (const [type, weight] of TYPE_WEIGHTS) {
    acc += weight;
    if (r < acc) return type;
  }
  return 'file';
}

function detectionName(rng: Rng, family: string): string {
  switch (rng.int(5)) {
    case 0:
      return `${rng.pick(PREFIXES)}:${rng.pick(PLATFORMS)}/${family}.${rng.hex(4).toUpperCase()}`;
    case 1:
      return `Gen:Variant.${family}.${rng.range(1000, 999999)}`;
    case 2:
      return `${rng.pick(PREFIXES)}.${rng.pick(PLATFORMS)}.${family}.${String.fromCharCode(97 + rng.int(26))}`;
    case 3:
      return `W32/${family}.${rng.hex(2).toUpperCase()}!tr`;
    default:
      return `${rng.pick(PREFIXES)}/${family}!ml`;
  }
}

function analysisResults(
  rng: Rng,
  t: Templates,
  family: string,
  maliciousRatio: number,
): { results: JsonObject; stats: JsonObject } {
  const results: JsonObject = {};
  let malicious = 0;
  let suspicious = 0;
  let undetected = 0;
  let unsupported = 0;
  let timeout = 0;
  for (const e of t.engines) {
    const r = rng.float();
    let category: string;
    let result: string | null = null;
    if (r < maliciousRatio) {
      category = 'malicious';
      result = detectionName(rng, family);
      malicious++;
    } else if (r < maliciousRatio + 0.03) {
      category = 'suspicious';
      result = rng.chance(0.5) ? 'Suspicious.Behavior' : `heur.${family.toLowerCase()}`;
      suspicious++;
    } else if (r < 0.97) {
      category = 'undetected';
      undetected++;
    } else if (r < 0.99) {
      category = 'type-unsupported';
      unsupported++;
    } else {
      category = 'timeout';
      timeout++;
    }
    results[e.engine_name] = {
      category,
      engine_name: e.engine_name,
      engine_update: e.engine_update,
      engine_version: e.engine_version,
      method: e.method,
      result,
    };
  }
  return {
    results,
    stats: {
      malicious,
      suspicious,
      undetected,
      harmless: 0,
      timeout,
      'confirmed-timeout': 0,
      failure: 0,
      'type-unsupported': unsupported,
    },
  };
}

function urlAnalysisResults(
  rng: Rng,
  t: Templates,
  maliciousRatio: number,
): { results: JsonObject; stats: JsonObject } {
  const results: JsonObject = {};
  let malicious = 0;
  let harmless = 0;
  let undetected = 0;
  for (let i = 0; i < t.engines.length; i += 1) {
    const e = t.engines[i];
    if (!e) continue;
    const r = rng.float();
    const category = r < maliciousRatio ? 'malicious' : r < 0.7 ? 'harmless' : 'undetected';
    if (category === 'malicious') malicious++;
    else if (category === 'harmless') harmless++;
    else undetected++;
    results[e.engine_name] = {
      category,
      engine_name: e.engine_name,
      method: 'blacklist',
      result:
        category === 'malicious'
          ? rng.pick(['malicious', 'phishing', 'malware'])
          : category === 'harmless'
            ? 'clean'
            : 'unrated',
    };
  }
  return { results, stats: { malicious, suspicious: 0, undetected, harmless, timeout: 0 } };
}

function gti(rng: Rng, malicious: number): JsonObject {
  const score = Math.min(100, malicious * 2 + rng.int(20));
  const verdict = score > 60 ? 'VERDICT_MALICIOUS' : score > 25 ? 'VERDICT_SUSPICIOUS' : 'VERDICT_UNDETECTED';
  const severity =
    score > 80
      ? 'SEVERITY_HIGH'
      : score > 50
        ? 'SEVERITY_MEDIUM'
        : score > 20
          ? 'SEVERITY_LOW'
          : 'SEVERITY_NONE';
  return {
    verdict: { value: verdict },
    severity: { value: severity },
    threat_score: { value: score },
    contributing_factors: rng.chance(0.2)
      ? {}
      : { mandiant_analyst_benign: false, gavs_detections: malicious, normalised_categories: ['trojan'] },
    description: rng.chance(0.1)
      ? ''
      : 'This indicator was determined as malicious by Google Threat Intelligence.',
  };
}

function threatSeverity(rng: Rng, date: number): JsonObject {
  const level = rng.range(0, 4);
  return {
    threat_severity_level: `SEVERITY_${['NONE', 'LOW', 'MEDIUM', 'HIGH', 'UNKNOWN'][level] ?? 'NONE'}`,
    level_description:
      level >= 3
        ? 'Severity HIGH because it was considered malicious by multiple engines.'
        : 'No severity score data',
    last_analysis_date: String(date - rng.int(86400)),
    threat_severity_data: rng.chance(0.3)
      ? {}
      : { num_gav_detections: rng.int(30), has_bad_collection: rng.chance(0.4) },
    version: 5,
  };
}

function fileName(rng: Rng, ext: string): string {
  const stem = rng.pick(NAME_STEMS);
  return rng.chance(0.5) ? `${stem}.${ext}` : `${stem}_${rng.digits(4)}.${ext}`;
}

function peInfo(rng: Rng, date: number, extraResources: number): JsonObject {
  const sections: JsonValue[] = [];
  const nSections = rng.range(4, 7);
  let va = 4096;
  for (let i = 0; i < nSections; i++) {
    const size = rng.range(1, 400) * 512;
    sections.push({
      name: SECTION_NAMES[i] ?? `.s${i}`,
      chi2: Math.round(rng.float() * 1e6) / 100,
      virtual_address: va,
      flags: rng.pick(['rx', 'r', 'rw', 'rwx']),
      raw_size: size,
      entropy: Math.round(rng.float() * 800) / 100,
      virtual_size: size + rng.int(512),
      md5: rng.hex(32),
    });
    va += size + 4096;
  }
  const imports: JsonValue[] = [];
  const nLibs = rng.range(4, 9);
  for (let i = 0; i < nLibs; i++) {
    const fns: JsonValue[] = [];
    const nFns = rng.range(10, 40);
    for (let j = 0; j < nFns; j++) fns.push(rng.pick(API_FUNCS));
    imports.push({ library_name: DLLS[i] ?? rng.pick(DLLS), imported_functions: fns });
  }
  const resources: JsonValue[] = [];
  const nRes = rng.range(1, 6) + extraResources;
  for (let i = 0; i < nRes; i++) {
    resources.push({
      lang: rng.pick(['ENGLISH US', 'RUSSIAN', 'CHINESE SIMPLIFIED', 'NEUTRAL']),
      entropy: Math.round(rng.float() * 800) / 100,
      chi2: Math.round(rng.float() * 1e6) / 100,
      filetype: rng.pick(['Data', 'PNG', 'ICO', 'XML', 'unknown']),
      sha256: rng.hex(64),
      type: rng.pick(['RT_ICON', 'RT_GROUP_ICON', 'RT_VERSION', 'RT_MANIFEST', 'RT_RCDATA']),
    });
  }
  return {
    timestamp: date - rng.int(86400 * 400),
    imphash: rng.hex(32),
    machine_type: rng.pick([332, 34404]),
    entry_point: rng.int(1 << 20),
    rich_pe_header_hash: rng.chance(0.15) ? '' : rng.hex(32),
    sections,
    import_list: imports,
    resource_details: resources,
    resource_langs: { 'ENGLISH US': rng.range(1, 5), NEUTRAL: rng.int(3) },
    resource_types: { RT_ICON: rng.range(1, 8), RT_VERSION: 1, RT_MANIFEST: 1 },
    compiler_product_versions: [
      `id: 259, version: 33${rng.range(100, 999)} count=${rng.range(1, 40)}`,
      `[IMP] VS2022 build ${rng.range(30000, 34000)}`,
    ],
    overlay: rng.chance(0.7)
      ? {}
      : {
          entropy: Math.round(rng.float() * 800) / 100,
          offset: rng.int(1 << 20),
          size: rng.int(1 << 16),
          md5: rng.hex(32),
        },
  };
}

function sandboxVerdicts(rng: Rng, family: string): JsonObject {
  const out: JsonObject = {};
  const n = rng.range(1, 4);
  for (let i = 0; i < n; i++) {
    const name = SANDBOXES[(i * 3 + rng.int(3)) % SANDBOXES.length] ?? 'Zenbox';
    out[name] = {
      category: rng.pick(['malicious', 'suspicious', 'harmless', 'undetected']),
      confidence: rng.range(10, 100),
      sandbox_name: name,
      malware_classification: rng.chance(0.2) ? [] : ['TROJAN', 'EVADER'].slice(0, rng.range(1, 2)),
      malware_names: rng.chance(0.3) ? [] : [family],
    };
  }
  return out;
}

function yaraResults(rng: Rng, family: string, n: number): JsonValue[] {
  const out: JsonValue[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      rule_name: `${family}_${rng.pick(['strings', 'loader', 'config', 'unpacked'])}_${rng.hex(4)}`,
      ruleset_name: `${family.toLowerCase()}_rules`,
      ruleset_id: rng.hex(10),
      source: rng.pick(YARA_SOURCES),
      author: rng.pick(['Florian Roth', 'Elastic Security', 'ditekSHen', 'Mandiant', 'Jérôme Lévêque']),
      description: i % 3 === 2 ? '' : `Detects ${family} payloads observed in recent campaigns (rule ${i})`,
      match_date: 1700000000 + rng.int(60000000),
    });
  }
  return out;
}

function idsResults(rng: Rng, n: number): JsonValue[] {
  const out: JsonValue[] = [];
  for (let i = 0; i < n; i++) {
    const ip = `${rng.range(11, 223)}.${rng.int(256)}.${rng.int(256)}.${rng.range(1, 254)}`;
    out.push({
      rule_category: rng.pick(['A Network Trojan was detected', 'Potentially Bad Traffic', 'Misc activity']),
      alert_severity: rng.pick(['high', 'medium', 'low']),
      rule_msg: `ET MALWARE Observed ${rng.pick(FAMILIES)} CnC Beacon (${rng.hex(6)})`,
      rule_raw: `alert http $HOME_NET any -> $EXTERNAL_NET any (msg:"ET MALWARE beacon"; flow:established,to_server; content:"/${rng.hex(8)}"; sid:${rng.range(2000000, 2999999)}; rev:${rng.range(1, 9)};)`,
      rule_source: rng.pick(['Proofpoint Emerging Threats Open', 'Abuse.ch Suricata Botnet C2 IP Ruleset']),
      rule_url: 'https://rules.emergingthreats.net/',
      rule_id: `1:${rng.range(2000000, 2999999)}`,
      alert_context: [
        {
          dest_ip: ip,
          dest_port: rng.pick([80, 443, 8080, 4444]),
          hostname: rng.chance(0.3) ? '' : `c2-${rng.hex(4)}.example`,
          url: '',
        },
      ],
    });
  }
  return out;
}

function sigmaResults(rng: Rng, n: number): JsonValue[] {
  const out: JsonValue[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      rule_title: rng.pick(SIGMA_RULES),
      rule_source: 'Sigma Integrated Rule Set (GitHub)',
      rule_level: rng.pick(['low', 'medium', 'high', 'critical']),
      rule_id: rng.hex(64),
      rule_author: rng.pick([
        'Florian Roth (Nextron Systems)',
        'frack113',
        'Nasreddine Bencherchali',
        'Łukasz Nowak',
      ]),
      rule_description:
        'Detects behaviour commonly used by malware to persist or evade defences on Windows hosts',
      match_context: [
        {
          values: {
            CommandLine: `powershell.exe -nop -w hidden -enc ${rng.hex(48)}`,
            Image: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
            ParentImage: `C:\\Users\\user\\AppData\\Local\\Temp\\${rng.hex(8)}.exe`,
            ProcessId: String(rng.range(1000, 9999)),
            EventID: String(rng.pick([1, 10, 11, 13])),
          },
        },
      ],
    });
  }
  return out;
}

function fileAttributes(
  rng: Rng,
  t: Templates,
  date: number,
  outlier: boolean,
): { id: string; attributes: JsonObject } {
  const kind = rng.pick(FILE_KINDS);
  const family = rng.pick(FAMILIES);
  const sha256 = rng.hex(64);
  const maliciousRatio = rng.chance(0.15) ? 0.02 : 0.35 + rng.float() * 0.5;
  const { results, stats } = analysisResults(rng, t, family, maliciousRatio);
  const malicious = typeof stats.malicious === 'number' ? stats.malicious : 0;
  const size = rng.range(2048, 8 << 20);
  const firstSub = date - rng.int(86400 * 90);
  const names: JsonValue[] = [];
  const nNames = outlier ? 400 : rng.range(1, 8);
  for (let i = 0; i < nNames; i++) names.push(fileName(rng, kind.ext));
  const attributes: JsonObject = {
    type_description: kind.desc,
    type_tag: kind.tags[0] ?? 'unknown',
    type_tags: [...kind.tags],
    type_extension: kind.ext,
    magic: kind.pe ? 'PE32 executable (GUI) Intel 80386, for MS Windows' : `${kind.desc} data`,
    md5: rng.hex(32),
    sha1: rng.hex(40),
    sha256,
    size,
    ssdeep: `${rng.range(3, 49152)}:${rng.hex(40)}:${rng.hex(24)}`,
    tlsh: `T1${rng.hex(70).toUpperCase()}`,
    vhash: rng.chance(0.1) ? '' : `${rng.digits(6)}${rng.hex(20)}`,
    authentihash: kind.pe ? rng.hex(64) : null,
    names,
    meaningful_name: names[0] ?? '',
    first_submission_date: firstSub,
    last_submission_date: date - rng.int(3600),
    first_seen_itw_date: rng.chance(0.5) ? firstSub - rng.int(86400) : null,
    last_analysis_date: date - rng.int(600),
    last_modification_date: date,
    times_submitted: rng.range(1, 400),
    unique_sources: rng.range(1, 60),
    reputation: -rng.int(100),
    total_votes: { harmless: rng.int(3), malicious: rng.int(20) },
    tags: [...kind.tags.slice(0, 2), ...(rng.chance(0.3) ? ['detect-debug-environment', 'long-sleeps'] : [])],
    last_analysis_results: results,
    last_analysis_stats: stats,
    gti_assessment: gti(rng, malicious),
    threat_severity: threatSeverity(rng, date),
    mandiant_ic_score: rng.int(101),
    popular_threat_classification: {
      suggested_threat_label: `trojan.${family.toLowerCase()}/${rng.pick(['generic', 'msil', 'agent'])}`,
      popular_threat_category: [{ count: rng.range(5, 30), value: 'trojan' }],
      popular_threat_name: [{ count: rng.range(3, 20), value: family.toLowerCase() }],
    },
    sandbox_verdicts: sandboxVerdicts(rng, family),
    trid: [
      { file_type: `${kind.desc} (generic)`, probability: Math.round(rng.float() * 1000) / 10 },
      { file_type: 'Generic Win/DOS Executable', probability: Math.round(rng.float() * 300) / 10 },
    ],
    exiftool: rng.chance(0.15)
      ? {}
      : {
          MIMEType: 'application/octet-stream',
          FileType: kind.desc,
          FileTypeExtension: kind.ext,
          CompanyName: rng.pick([
            'Microsoft Corporation',
            'Google LLC',
            '',
            'ООО Ромашка',
            '深圳市科技有限公司',
          ]),
          FileDescription: rng.pick(['Setup', 'Update Service', 'Document Viewer', '']),
          ProductVersion: `${rng.range(1, 20)}.${rng.range(0, 9)}.${rng.range(0, 999)}`,
          LegalCopyright: `© ${rng.range(2010, 2026)} All rights reserved`,
          OriginalFileName: fileName(rng, kind.ext),
        },
    signature_info: rng.chance(0.6)
      ? { verified: 'Unsigned', description: '' }
      : {
          verified: 'Signed',
          signers: `${rng.pick(['Microsoft Windows', 'Zoom Video Communications, Inc.', 'Некая Компания'])}; DigiCert`,
          'signing date': '03:14 PM 01/02/2026',
        },
    crowdsourced_yara_results: yaraResults(rng, family, outlier ? 300 : rng.range(0, 6)),
    sigma_analysis_results: sigmaResults(rng, outlier ? 300 : rng.range(0, 5)),
    crowdsourced_ids_results: idsResults(rng, outlier ? 60 : rng.range(0, 4)),
    sigma_analysis_stats: { critical: rng.int(2), high: rng.int(4), medium: rng.int(6), low: rng.int(8) },
    crowdsourced_ai_results: rng.chance(0.5)
      ? []
      : [
          {
            category: 'code_insight',
            source: 'palm',
            id: rng.hex(16),
            analysis: `The sample behaves like a ${family} loader: it decodes its configuration and contacts a remote server.`,
          },
        ],
    downloadable: true,
    context: { notes: [], extra: { empty: {}, nothing: null } },
  };
  if (kind.pe && rng.chance(0.9)) attributes.pe_info = peInfo(rng, date, outlier ? 400 : 0);
  return { id: sha256, attributes };
}

function domainName(rng: Rng): string {
  const parts = rng.range(1, 2);
  let host = rng.pick(WORDS);
  for (let i = 1; i < parts; i++) host += `-${rng.pick(WORDS)}`;
  if (rng.chance(0.3)) host += String(rng.range(1, 999));
  if (rng.chance(0.4)) host = `${rng.pick(['www', 'mail', 'cdn', 'login', 'app'])}.${host}`;
  return `${host}.${rng.pick(TLDS)}`;
}

function ipv4(rng: Rng): string {
  return `${rng.range(11, 223)}.${rng.int(256)}.${rng.int(256)}.${rng.range(1, 254)}`;
}

function domainAttributes(rng: Rng, t: Templates, date: number): { id: string; attributes: JsonObject } {
  const domain = domainName(rng);
  const { results, stats } = urlAnalysisResults(rng, t, rng.float() * 0.2);
  const records: JsonValue[] = [];
  const nRecords = rng.range(1, 6);
  for (let i = 0; i < nRecords; i++) {
    const type = rng.pick(['A', 'A', 'AAAA', 'MX', 'NS', 'TXT']);
    const value =
      type === 'A'
        ? ipv4(rng)
        : type === 'AAAA'
          ? `2a0${rng.int(9)}:${rng.hex(4)}::${rng.hex(3)}`
          : type === 'TXT'
            ? `v=spf1 include:_spf.${domain} ~all`
            : `ns${rng.range(1, 4)}.${domainName(rng)}`;
    records.push({ type, value, ttl: rng.pick([60, 300, 3600, 86400]) });
  }
  const malicious = typeof stats.malicious === 'number' ? stats.malicious : 0;
  return {
    id: domain,
    attributes: {
      last_dns_records: records,
      last_dns_records_date: date - rng.int(86400),
      jarm: rng.chance(0.2) ? '' : `${rng.hex(30)}${rng.hex(32)}`,
      last_https_certificate: rng.chance(0.25)
        ? null
        : {
            serial_number: rng.hex(32),
            subject: { CN: domain },
            issuer: {
              CN: rng.pick(['R11', 'E6', 'GTS CA 1D4', 'Sectigo RSA Domain Validation Secure Server CA']),
              O: "Let's Encrypt",
              C: 'US',
            },
            validity: { not_before: '2026-01-01 00:00:00', not_after: '2026-04-01 00:00:00' },
            extensions: { subject_alternative_name: [domain, `*.${domain}`] },
            thumbprint_sha256: rng.hex(64),
          },
      registrar: rng.pick(REGISTRARS),
      creation_date: date - rng.int(86400 * 365 * 3),
      whois: rng.chance(0.3)
        ? ''
        : `Domain Name: ${domain.toUpperCase()}\nRegistrar: ${rng.pick(REGISTRARS)}\nRegistrant Country: ${rng.pick(COUNTRIES)}`,
      categories: rng.chance(0.3)
        ? {}
        : {
            'Forcepoint ThreatSeeker': rng.pick([
              'phishing and other frauds',
              'malicious web sites',
              'newly registered websites',
            ]),
            BitDefender: 'phishing',
          },
      popularity_ranks: {},
      tld: domain.slice(domain.lastIndexOf('.') + 1),
      last_analysis_results: results,
      last_analysis_stats: stats,
      last_analysis_date: date - rng.int(3600),
      last_modification_date: date,
      reputation: -rng.int(50),
      tags: rng.chance(0.5) ? [] : ['dga'],
      gti_assessment: gti(rng, malicious),
      threat_severity: threatSeverity(rng, date),
      mandiant_ic_score: rng.int(101),
      total_votes: { harmless: 0, malicious: rng.int(5) },
    },
  };
}

function urlAttributes(rng: Rng, t: Templates, date: number): { id: string; attributes: JsonObject } {
  const host = rng.chance(0.2) ? ipv4(rng) : domainName(rng);
  const path = rng.pick([
    '/login.php',
    '/wp-admin/inc/',
    '/invoice/view',
    '/дом/вход',
    '/文件/下载',
    '/dl',
    '/',
    '/index.html',
  ]);
  const url = `${rng.pick(['http', 'https'])}://${host}${path}${rng.chance(0.4) ? `?id=${rng.hex(12)}` : ''}`;
  const id = createHash('sha256').update(url).digest('hex');
  const { results, stats } = urlAnalysisResults(rng, t, rng.float() * 0.25);
  const malicious = typeof stats.malicious === 'number' ? stats.malicious : 0;
  return {
    id,
    attributes: {
      url,
      last_final_url: rng.chance(0.7) ? url : `https://${domainName(rng)}/`,
      title: rng.pick(TITLES),
      last_http_response_code: rng.pick([200, 200, 301, 302, 403, 404]),
      last_http_response_content_length: rng.int(200000),
      last_http_response_content_sha256: rng.hex(64),
      last_http_response_headers: {
        'content-type': 'text/html; charset=UTF-8',
        server: rng.pick(['nginx', 'Apache', 'cloudflare', '']),
      },
      first_submission_date: date - rng.int(86400 * 10),
      last_submission_date: date - rng.int(3600),
      last_analysis_date: date - rng.int(3600),
      last_modification_date: date,
      times_submitted: rng.range(1, 50),
      tld: host.slice(host.lastIndexOf('.') + 1),
      categories: rng.chance(0.4) ? {} : { Webroot: 'Phishing and Other Frauds' },
      outgoing_links: rng.chance(0.5)
        ? []
        : [`https://${domainName(rng)}/`, `https://${domainName(rng)}/a.js`],
      html_meta: rng.chance(0.5)
        ? {}
        : { viewport: ['width=device-width, initial-scale=1'], description: [''] },
      last_analysis_results: results,
      last_analysis_stats: stats,
      reputation: -rng.int(50),
      tags: [],
      gti_assessment: gti(rng, malicious),
      threat_severity: threatSeverity(rng, date),
      mandiant_ic_score: rng.int(101),
      total_votes: { harmless: 0, malicious: rng.int(5) },
    },
  };
}

function ipAttributes(rng: Rng, t: Templates, date: number): { id: string; attributes: JsonObject } {
  const ip = ipv4(rng);
  const { results, stats } = urlAnalysisResults(rng, t, rng.float() * 0.15);
  const malicious = typeof stats.malicious === 'number' ? stats.malicious : 0;
  const prefix = ip.split('.').slice(0, 2).join('.');
  return {
    id: ip,
    attributes: {
      network: `${prefix}.0.0/16`,
      asn: rng.range(1000, 400000),
      as_owner: rng.pick(AS_OWNERS),
      country: rng.pick(COUNTRIES),
      continent: rng.pick(['EU', 'NA', 'AS', 'SA']),
      regional_internet_registry: rng.pick(['RIPE NCC', 'ARIN', 'APNIC', 'LACNIC']),
      jarm: rng.chance(0.5) ? '' : rng.hex(62),
      last_https_certificate: rng.chance(0.5) ? null : { serial_number: rng.hex(32), subject: { CN: ip } },
      whois: rng.chance(0.5)
        ? ''
        : `NetRange: ${prefix}.0.0 - ${prefix}.255.255\nOrgName: ${rng.pick(AS_OWNERS)}`,
      last_analysis_results: results,
      last_analysis_stats: stats,
      last_analysis_date: date - rng.int(3600),
      last_modification_date: date,
      reputation: -rng.int(30),
      tags: [],
      gti_assessment: gti(rng, malicious),
      threat_severity: threatSeverity(rng, date),
      mandiant_ic_score: rng.int(101),
      total_votes: { harmless: rng.int(2), malicious: rng.int(5) },
    },
  };
}

/** API collection of each item type, for `links.self` (https://docs.virustotal.com/reference/objects). */
const API_PATH: Record<ItemType, string> = {
  file: 'files',
  url: 'urls',
  domain: 'domains',
  ip_address: 'ip_addresses',
};

function snippet(rng: Rng): string {
  const bytes = [];
  for (let i = 0; i < 16; i++) bytes.push(rng.hex(2).toUpperCase());
  return `${bytes.join(' ')}  |MZ......${rng.hex(4)}..| \n*begin_highlight*${bytes.slice(4, 10).join(' ')}*end_highlight*`;
}

/**
 * Context attributes of one notification, as "Get objects from the IoC Stream" documents them
 * (https://docs.virustotal.com/reference/get-objects-from-the-ioc-stream): origin `hunting` for
 * Livehunt and Retrohunt, whose source is the hunting ruleset or retrohunt job (a Livehunt
 * notification's only source is its ruleset; several rulesets on one item are *unconfirmed* but
 * allowed by `sources` being a list); origin `subscriptions` for collection and threat-actor
 * subscriptions, one or more of them. `hunting_info` only for hunting origin, with exactly
 * HUNTING_INFO_KEYS; absent otherwise.
 */
function contextFor(
  rng: Rng,
  t: Templates,
  seed: number,
  index: number,
  date: number,
  type: ItemType,
): Notification['context_attributes'] {
  const hunting = rng.chance(0.65);
  const sources: NotificationSource[] = [];
  const tags: string[] = [];
  if (rng.chance(0.4)) tags.push(rng.pick(NOTIF_TAGS));
  if (rng.chance(0.1)) tags.push(rng.pick(NOTIF_TAGS));
  const context: Notification['context_attributes'] = {
    notification_id: notificationIdFor(seed, index),
    notification_date: date,
    origin: hunting ? 'hunting' : 'subscriptions',
    sources,
    tags,
  };
  if (hunting) {
    // Retrohunt runs rules over past file submissions: only file notifications come from a job.
    const retro = type === 'file' && rng.chance(0.1);
    const set = rng.pick(t.rulesets);
    if (retro) {
      const job = rng.pick(t.retrohunts);
      sources.push({ type: 'retrohunt_job', id: job.id, label: job.label });
    } else {
      sources.push({ type: 'hunting_ruleset', id: set.id, label: set.label });
      if (rng.chance(0.12)) {
        const other = rng.pick(t.rulesets);
        sources.push({ type: 'hunting_ruleset', id: other.id, label: other.label });
      }
    }
    context.hunting_info = {
      rule_name: rng.pick(set.rules),
      rule_tags: rng.chance(0.3) ? [] : [rng.pick(RULE_TAGS), rng.pick(RULE_TAGS)],
      snippet: rng.chance(0.1) ? '' : snippet(rng),
      source_country: rng.chance(0.15) ? '' : rng.pick(COUNTRIES),
      source_key: rng.hex(8),
    };
  } else {
    const n = rng.chance(0.15) ? 2 : 1;
    for (let i = 0; i < n; i++) {
      const c = rng.pick(t.collections);
      sources.push({ type: c.type, id: c.id, label: c.label });
    }
  }
  return context;
}

/** Unique across seeds < 10^6 and indices < 10^10: a 17-digit string like GTI's numeric ids. */
export function notificationIdFor(seed: number, index: number): string {
  return `${1000000 + (seed % 1000000)}${String(index).padStart(10, '0')}`;
}

function build(
  seed: number,
  index: number,
  date: number,
  forceType: ItemType | undefined,
  outlier: boolean,
): Notification {
  const t = templatesFor(seed);
  const rng = new Rng(stateFor(seed, index, 2));
  const type = forceType ?? pickType(rng);
  let made: { id: string; attributes: JsonObject };
  switch (type) {
    case 'file':
      made = fileAttributes(rng, t, date, outlier);
      break;
    case 'url':
      made = urlAttributes(rng, t, date);
      break;
    case 'domain':
      made = domainAttributes(rng, t, date);
      break;
    case 'ip_address':
      made = ipAttributes(rng, t, date);
      break;
  }
  return {
    type,
    id: made.id,
    links: { self: `https://www.virustotal.com/api/v3/${API_PATH[type]}/${made.id}` },
    attributes: made.attributes,
    context_attributes: contextFor(rng, t, seed, index, date, type),
  };
}

/** The generator used by generatedDataset (without the outlier rule: type chosen by the PRNG). */
export function makeNotification(seed: number, index: number, date: number): Notification {
  return build(seed, index, date, undefined, false);
}

// ---------------------------------------------------------------------------------------------
// Datasets

/** Items per date group: dates inside a group are sorted random offsets, so ties are frequent. */
const GROUP = 5;

export function generatedDataset(options: GeneratedDatasetOptions): Dataset {
  const count = options.count;
  if (!Number.isInteger(count) || count < 0)
    throw new RangeError(`count must be a non-negative integer, got ${count}`);
  const seed = options.seed ?? 1;
  const start = options.startSeconds ?? DEFAULT_START_SECONDS;
  const spacing = options.secondsPerNotification ?? 2;
  if (!(spacing >= 0)) throw new RangeError(`secondsPerNotification must be >= 0, got ${spacing}`);
  const oversizedEvery = options.oversizedEvery ?? 500;
  const width = Math.floor(GROUP * spacing);

  const dateOf = (index: number): number => {
    if (!Number.isInteger(index) || index < 0 || index >= count)
      throw new RangeError(`index ${index} out of range 0..${count - 1}`);
    const group = Math.floor(index / GROUP);
    const base = start + Math.floor(group * GROUP * spacing);
    if (width <= 0) return base;
    // GROUP sorted offsets in [0, width]; the largest is <= width, so the next group never starts earlier.
    const rng = new Rng(stateFor(seed, group, 3));
    const offsets: number[] = [];
    for (let i = 0; i < GROUP; i++) offsets.push(rng.int(width));
    // Force a tie in roughly half the groups even when the window is wide.
    if (rng.chance(0.5)) offsets[1] = offsets[0] ?? 0;
    offsets.sort((a, b) => a - b);
    return base + (offsets[index % GROUP] ?? 0);
  };

  return {
    size: count,
    dateOf,
    get(index: number): Notification {
      const date = dateOf(index);
      const outlier = oversizedEvery > 0 && index % oversizedEvery === oversizedEvery - 1;
      return build(seed, index, date, outlier ? 'file' : undefined, outlier);
    },
  };
}

export function arrayDataset(items: readonly Notification[]): Dataset {
  const sorted = items
    .map((item, position) => ({ item, position }))
    .sort(
      (a, b) =>
        a.item.context_attributes.notification_date - b.item.context_attributes.notification_date ||
        a.position - b.position,
    )
    .map((x) => x.item);
  const at = (index: number): Notification => {
    const item = sorted[index];
    if (item === undefined) throw new RangeError(`index ${index} out of range 0..${sorted.length - 1}`);
    return item;
  };
  return {
    size: sorted.length,
    dateOf: (index) => at(index).context_attributes.notification_date,
    get: (index) => structuredClone(at(index)),
  };
}

// ---------------------------------------------------------------------------------------------
// Demo dataset

/** Fixed end of the demo's hour: 2026-02-01T12:00:00Z. */
export const DEMO_END_SECONDS = 1769947200;
export const DEMO_SEED = 20260201;

/**
 * The one oversized demo notification (~4.9 MB of JSON). Its bulk is split so trimming must remove more
 * than one field: last_analysis_results ~1.75 MB (the largest), pe_info ~1.7 MB, crowdsourced_yara_results
 * ~0.95 MB, sigma_analysis_results ~0.45 MB. Without last_analysis_results it is still ~3.1 MB of JSON
 * (~4.1 MB as base64: too big for one request); without pe_info as well it is ~1.4 MB.
 */
function hugeFile(rng: Rng, t: Templates, base: Notification): Notification {
  const attributes: JsonObject = { ...(base.attributes ?? {}) };
  const family = 'LummaStealer';
  const results: JsonObject = {};
  const engines = t.engines;
  for (let i = 0; i < 10300; i++) {
    const e = engines[i % engines.length];
    if (!e) break;
    const key = i < engines.length ? e.engine_name : `${e.engine_name}-${Math.floor(i / engines.length)}`;
    results[key] = {
      category: i % 3 === 0 ? 'malicious' : 'undetected',
      engine_name: key,
      engine_update: e.engine_update,
      engine_version: e.engine_version,
      method: e.method,
      result: i % 3 === 0 ? detectionName(rng, family) : null,
    };
  }
  attributes.last_analysis_results = results;
  attributes.pe_info = peInfo(rng, base.context_attributes.notification_date, 10200);
  attributes.crowdsourced_yara_results = yaraResults(rng, family, 3500);
  attributes.sigma_analysis_results = sigmaResults(rng, 700);
  attributes.meaningful_name = 'Lumma_пакет_大文件.exe';
  return { ...base, attributes };
}

/** Demo items whose sources are set by hand: subscriptions to a threat actor, a collection, and both. */
const DEMO_SUBSCRIPTIONS: Readonly<
  Record<number, { type: ItemType; sources: Array<'collection' | 'threat_actor'> }>
> = {
  10: { type: 'domain', sources: ['threat_actor'] },
  26: { type: 'ip_address', sources: ['collection'] },
  42: { type: 'file', sources: ['collection', 'threat_actor'] },
};

/** A Retrohunt notification (origin hunting, source a retrohunt job). */
const DEMO_RETROHUNT = 15;

export function demoDataset(): Dataset {
  const seed = DEMO_SEED;
  const t = templatesFor(seed);
  const rng = new Rng(stateFor(seed, 0, 9));
  const count = 48;
  const types: ItemType[] = [];
  for (let i = 0; i < count; i++) {
    // Guarantee every type several times, files dominant.
    types.push(
      DEMO_SUBSCRIPTIONS[i]?.type ??
        (i % 12 === 1 || i % 12 === 9
          ? 'url'
          : i % 12 === 4
            ? 'domain'
            : i % 12 === 7
              ? 'ip_address'
              : 'file'),
    );
  }
  const start = DEMO_END_SECONDS - 3600;
  const items: Notification[] = [];
  let date = start + 30;
  for (let i = 0; i < count; i++) {
    date += i % 4 === 1 ? 0 : rng.range(20, 110);
    if (date > DEMO_END_SECONDS - 1) date = DEMO_END_SECONDS - 1;
    let item = build(seed, i, date, types[i], false);
    const ctx = item.context_attributes;
    if (i === 2) {
      // Several sources on one hunting notification.
      const sets = t.rulesets;
      ctx.origin = 'hunting';
      ctx.sources = sets.slice(0, 3).map((s) => ({ type: 'hunting_ruleset', id: s.id, label: s.label }));
      ctx.hunting_info = {
        rule_name: 'Détection_Ünicode_規則',
        rule_tags: ['apt', 'тест'],
        snippet: '4D 5A 90 00 03 00 00 00  |MZ......| *begin_highlight*пример 例子*end_highlight*',
        source_country: 'DE',
        source_key: 'a1b2c3d4',
      };
    }
    if (i === 5) {
      // Empty values at several depths.
      ctx.tags = [];
      const attrs = item.attributes ?? {};
      attrs.empty_string = '';
      attrs.empty_list = [];
      attrs.empty_object = {};
      attrs.nothing = null;
      attrs.nested = { a: { b: { c: '', d: [], e: {}, f: null } }, keep: 'x', list: [{}, [], '', null, 'y'] };
      item.attributes = attrs;
    }
    if (i === 6) {
      // The one subscription notification with `hunting_info: null` rather than absent: the docs say
      // "only present" for hunting origin; REFERENCE.md allows either, so clients must take both.
      ctx.origin = 'subscriptions';
      ctx.hunting_info = null;
    }
    const subscription = DEMO_SUBSCRIPTIONS[i];
    if (subscription) {
      ctx.origin = 'subscriptions';
      ctx.sources = subscription.sources.map((type) => {
        const ref = t.collections.find((c) => c.type === type) ?? t.collections[0];
        return { type, id: ref?.id ?? '', label: ref?.label ?? '' };
      });
    }
    if (i === DEMO_RETROHUNT) {
      const job = t.retrohunts[0];
      ctx.origin = 'hunting';
      if (job) ctx.sources = [{ type: 'retrohunt_job', id: job.id, label: job.label }];
    }
    if (i === 17) {
      item = hugeFile(rng, t, item);
      item.context_attributes.origin = 'hunting';
    }
    items.push(item);
  }
  // Guarantee both origins have the documented shape.
  for (const [i, item] of items.entries()) {
    const ctx = item.context_attributes;
    if (ctx.origin === 'subscriptions' && i !== 6) delete ctx.hunting_info;
    if (ctx.origin === 'hunting' && !ctx.hunting_info)
      ctx.hunting_info = {
        rule_name: 'generic_rule',
        rule_tags: [],
        snippet: '',
        source_country: 'US',
        source_key: 'deadbeef',
      };
    const huntingSource = (type: string | undefined): boolean =>
      type === 'hunting_ruleset' || type === 'retrohunt_job';
    if (ctx.origin === 'hunting' && !(ctx.sources ?? []).every((s) => huntingSource(s.type))) {
      const s = t.rulesets[0];
      if (s) ctx.sources = [{ type: 'hunting_ruleset', id: s.id, label: s.label }];
    }
    if (ctx.origin === 'subscriptions' && (ctx.sources ?? []).some((s) => huntingSource(s.type))) {
      const c = t.collections[i % t.collections.length];
      if (c) ctx.sources = [{ type: c.type, id: c.id, label: c.label }];
    }
  }
  return arrayDataset(items);
}
