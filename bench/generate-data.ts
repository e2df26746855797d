import { parseArgs } from 'node:util'
import { type Kysely, sql } from 'kysely'
import pg from 'pg'
import { openServerDatabase } from '../src/db/database.js'
import { migrateToLatest } from '../src/db/migrator.js'
import type { Database } from '../src/db/schema.js'
import {
  checkDatabaseName,
  commandLine,
  DEFAULT_DATABASE,
  databaseUrl,
  type GenerationRecord,
  seconds,
  serverUrl,
} from './scratch-database.js'

/**
 * Builds a scratch database at scale: `--scale 1` is 1,000 parties, 1,000,000 claims and 300,000 links. All rows
 * are made in the server by INSERT … SELECT over generate_series, through every constraint and foreign key of the
 * migrated schema. Randomness is a hash of (row number, salt), never random(): two runs make the same rows, ids
 * included, and the fingerprint printed at the end tells whether they did.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/generate-data.ts [--scale N] [--database NAME]
 */

const { values: options } = parseArgs({
  options: {
    scale: { type: 'string', default: '1' },
    database: { type: 'string', default: DEFAULT_DATABASE },
    // Loads into the migrated indexes instead of building them afterwards, for comparing the two ways.
    'load-with-indexes': { type: 'boolean', default: false },
  },
})

const server = serverUrl()
const database = checkDatabaseName(options.database, server)
const scale = Number(options.scale)
if (!Number.isFinite(scale) || scale <= 0 || scale > 100)
  throw new Error(`--scale ${options.scale}: give a number in (0, 100]`)

const PARTIES = Math.max(10, Math.round(1000 * scale))
const STATES = Math.max(2, Math.round(PARTIES * 0.02))
const CLAIMS = Math.max(1000, Math.round(1_000_000 * scale))
const LINKS = Math.max(100, Math.round(300_000 * scale))
/** A few claims every side answers: they collect hundreds of rebuttals each at scale 1. */
const HOT_CLAIMS = Math.max(3, Math.round(25 * scale))
const HOT_SHARE = 0.03
// Responses to claims (stage 1), responses to those (stage 2) and a third level (stage 3), so that threads of
// depth 3 exist; a top-up of first-level responses replaces what the filters dropped, to reach LINKS exactly.
const STAGE_1 = Math.round(LINKS * 0.7)
const STAGE_2 = Math.round(LINKS * 0.2)
const STAGE_3 = LINKS - STAGE_1 - STAGE_2
/** One event per ~100 claims; ATTACHED of the claims are about one, and FIGURED of those state figures. */
const EVENTS = Math.max(10, Math.round(CLAIMS / 100))
const ATTACHED = 0.3
const FIGURED = 0.5
const MEASURES = ['deaths', 'injured', 'displaced', 'missiles-fired'] as const
/** The share of claims that reword an earlier claim of their party. */
const REWORDED = 0.05
const FIRST_DAY = '2020-01-01 00:00:00+00'
const DAYS = 1096
const CLAIMS_PER_DAY = CLAIMS / DAYS

/** Claims cluster on a few parties: rank r speaks with weight ~ 1/sqrt(r). A stride coprime with PARTIES scatters
 * the ranks over the slugs, and a shift puts the loudest past the states: states speak through their ministries. */
const STRIDE = [7919, 7927, 7933].find((prime) => PARTIES % prime !== 0)!
const SHIFT = 7 * STATES + 3

// Content words only: English stop words are dropped by to_tsvector and could not be searched for. The order
// matters: a word's frequency falls with its position (the first few are in most claims).
const VOCABULARY = `
  forces attack village army shelling civilians border military troops drones artillery positions killed ministry
  ceasefire fired report defence city region frontline soldiers wounded statement enemy damage strike residents
  claims missile rockets destroyed evidence footage attacked government international humanitarian aid officials
  spokesman commander units battalion brigade regiment command president minister general parliament embassy
  shelled struck strikes bombardment offensive assault advance retreat withdrew captured damaged injured died
  evacuated launched intercepted downed repelled violated denied confirmed reported accused rejected condemned
  warned announced insisted alleged villages town capital district province settlement highway road bridge
  railway airport port pipeline station plant factory hospital school church mosque market houses buildings
  shelter residential farmland forest river mountain valley hill checkpoint corridor base depot warehouse
  headquarters mortar tanks aircraft helicopter howitzer grenades mines ammunition weapons rifles snipers cluster
  munitions chemical phosphorus radar convoy vehicles trucks ambulance children women families refugees prisoners
  hostages journalists volunteers doctors medics observers peacekeepers mercenaries militants separatists
  saboteurs reservists conscripts police guards truce agreement negotiations talks mediation sanctions resolution
  investigation video photos satellite images interview broadcast allegations propaganda disinformation
  provocation fabrication lies rumours hoax food water electricity power gas fuel oil grain supplies medicine
  blockade siege exchange bodies remains graves casualties losses destruction ruins fire explosion blast smoke
  craters morning night evening afternoon yesterday today week hours minutes dawn midnight heavy intense sporadic
  deliberate indiscriminate targeted precise massive unprovoked false baseless fake accurate verified independent
  local foreign hostile allied civilian illegal criminal brutal peaceful safe secure occupied liberated contested
  northern southern eastern western central continued resumed stopped halted ended began prepared planned
  organised deployed mobilised recruited trained supplied delivered received transferred moved crossed entered
  returned surrounded encircled blocked restored repaired rebuilt protected defended genocide massacre crimes
  violations atrocities terrorism terrorists aggression occupation invasion annexation sovereignty territory
  independence security stability peace war conflict crisis escalation threat danger risk dam reservoir nuclear
  reactor substation cable tower bunker trench airfield runway barracks outpost perimeter hangar communications
  signal jamming cyberattack hackers servers website television radio newspaper agency correspondent witness
  survivors victims mourners funeral memorial ambassador diplomats envoy summit council committee court tribunal
  prosecutor lawyers judges verdict charges arrest detention torture abuse`
  .trim()
  .split(/\s+/)

// Syllables of made-up word forms: 57 of them make some 185,000 forms of two or three syllables.
const SYLLABLES = `
  ka ro mi ta len dor vash ir bel on ust gra pel tum zi sor ek han vo lit mar nes qua bri tal os fen gul ri
  sta dva kor lev an yu pra mez ol chi ber tok vin sa ul dro kel ham ny ost ger pol ev tri mak jun ard sel`
  .trim()
  .split(/\s+/)

// Tags as slugs, most common first: the first is on about a quarter of all claims, the last few on about 2%.
const TAGS = `
  shelling drones ceasefire civilians artillery border pipeline casualties prisoners airstrike humanitarian-aid
  missile refugees disinformation mines hostages negotiations sanctions energy hospitals schools evacuation
  blockade corridor peacekeepers mercenaries mobilisation war-crimes journalists cyberattack elections protests
  grain ports railway bridges dams water electricity airports nuclear-plant chemical-weapons cluster-munitions
  cultural-heritage churches conscription satellite-imagery corruption genocide exchange`
  .trim()
  .split(/\s+/)

const STATE_NAMES = `Aldoria Borvania Calderra Dravenia Estmark Fennoria Galvia Hestria Ilvania Jorvath Kestrel
  Lumeria Marvosa Norland Ostravia Pellinor Quarsh Rivenia Sarnovia Tolvania`.split(/\s+/)

const PUBLISHERS = `Reuters|Associated Press|Agence France-Presse|BBC News|Al Jazeera|Deutsche Welle|The Guardian|
  Le Monde|Eurasianet|OC Media|Interfax|Anadolu Agency|Euronews|France 24|Radio Free Europe`
  .split('|')
  .map((name) => name.trim())

const PLACES = `Ashvale Brenmoor Corrin Dunhollow Eastwick Farrowgate Glenmarsh Harrowfield Ironbridge Kelmscott
  Larkspur Millbrook Northfold Oakhurst Pinecrest Queensferry Ravenholm Stonebury Thornfield Umberlee Valemont
  Westmere Yarrowdale Zennor`.split(/\s+/)

const KINDS = ['official', 'military', 'media', 'government', 'organisation'] as const
const KIND_LABELS: Record<(typeof KINDS)[number], string> = {
  official: 'Office',
  military: 'Armed Forces',
  media: 'News',
  government: 'Government',
  organisation: 'Foundation',
}

/** A constant written into SQL text: DDL takes no parameters, and every value here is ours. */
function literal(value: string | number): string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`)
    return String(value)
  }
  return `'${value.replace(/'/g, "''")}'`
}
const textArray = (items: readonly string[]) => `ARRAY[${items.map(literal).join(', ')}]::text[]`

/**
 * The generator's functions, in a schema of their own that is dropped at the end. They are pure functions of a
 * row number, so that a link can name the claims it joins (and their parties and times) without reading them
 * back. One-expression SQL functions are inlined by the planner: they cost what the expression costs.
 */
function generatorFunctions(): string {
  const create = (language: string) => (signature: string, returns: string, body: string) =>
    `CREATE FUNCTION bench_gen.${signature} RETURNS ${returns} LANGUAGE ${language} IMMUTABLE PARALLEL SAFE AS $fn$ ${body} $fn$;`
  const fn = create('sql')
  const plpgsql = create('plpgsql')
  return [
    'CREATE SCHEMA bench_gen;',
    // Uniform in [0, 1): the top 53 bits of a 64-bit hash of (n, salt).
    fn(
      'rnd(n bigint, salt bigint)',
      'double precision',
      'SELECT ((hashint8extended(n, salt) >> 11) & 9007199254740991)::double precision / 9007199254740992',
    ),
    // Random-looking version 4 UUIDs, so that primary key order tells nothing, as with gen_random_uuid().
    fn(
      'uuid_of(prefix text, n bigint)',
      'uuid',
      `SELECT overlay(overlay(md5(prefix || n) placing '4' from 13) placing '8' from 17)::uuid`,
    ),
    fn('vocabulary()', 'text[]', `SELECT ${textArray(VOCABULARY)}`),
    fn('tag_vocabulary()', 'text[]', `SELECT ${textArray(TAGS)}`),
    fn('syllables()', 'text[]', `SELECT ${textArray(SYLLABLES)}`),
    // Text is made word by word in PL/pgSQL, which keeps its plans for the session: a nested SQL function would
    // be planned again for every row that calls it, ten times slower. Half the words come from the vocabulary;
    // the rest are what makes real claims tell apart by trigrams: word forms made of syllables (some 185,000,
    // the common ones often), names, and numbers. A rewording (variant <> 0) is its source's text with about one
    // word in five replaced by the variant's own.
    plpgsql(
      'words(n bigint, salt bigint, count integer, variant bigint DEFAULT 0)',
      'text',
      `
      DECLARE
        vocabulary text[] := bench_gen.vocabulary();
        syllables text[] := bench_gen.syllables();
        result text := '';
        seed bigint;
        u double precision;
        form bigint;
        word text;
      BEGIN
        FOR k IN 1..count LOOP
          seed := n * 64 + k;
          IF variant <> 0 AND bench_gen.rnd(variant * 64 + k, salt + 1) < 0.2 THEN
            seed := -(variant * 64 + k);
          END IF;
          u := bench_gen.rnd(seed, salt);
          IF u < 0.5 THEN
            word := vocabulary[1 + floor(${VOCABULARY.length} * (u / 0.5) ^ 2)::int];
          ELSIF u < 0.92 THEN
            form := floor(${SYLLABLES.length ** 3} * bench_gen.rnd(seed, salt + 2) ^ 3)::bigint;
            word := syllables[1 + form % ${SYLLABLES.length}] || syllables[1 + (form / ${SYLLABLES.length}) % ${SYLLABLES.length}]
                    || CASE WHEN form >= ${SYLLABLES.length ** 2} THEN syllables[1 + form / ${SYLLABLES.length ** 2}] ELSE '' END;
            -- About one in six is a name of a place or a person.
            IF u > 0.85 THEN word := initcap(word); END IF;
          ELSE
            word := floor(10 ^ (1 + 3 * bench_gen.rnd(seed, salt + 3)))::bigint::text;
          END IF;
          result := CASE WHEN k = 1 THEN word ELSE result || ' ' || word END;
        END LOOP;
        RETURN result;
      END`,
    ),
    plpgsql(
      'sentence(n bigint, salt bigint, count integer, variant bigint DEFAULT 0)',
      'text',
      `
      DECLARE words text := bench_gen.words(n, salt, count, variant);
      BEGIN
        RETURN upper(left(words, 1)) || substr(words, 2) || '.';
      END`,
    ),
    // REWORDED of the claims are near-rewordings of the first claim of their block of 16 (stated close to
    // it, by the same party), the true positives of /similar and of the duplicate check; the others are their own.
    fn(
      'reworded_from(n bigint)',
      'bigint',
      `SELECT CASE WHEN n % 16 <> 0 AND n > 16 AND bench_gen.rnd(n, 170) < ${REWORDED} THEN n - n % 16 ELSE n END`,
    ),
    fn(
      'claim_party(n bigint)',
      'bigint',
      `
      SELECT 1 + (floor(${PARTIES} * bench_gen.rnd(bench_gen.reworded_from(n), 101) ^ 2)::bigint * ${STRIDE} + ${SHIFT}) % ${PARTIES}`,
    ),
    // Claims are numbered in time order, with half a day of jitter: a claim numbered after another was most
    // likely stated after it, which is how a response is placed after what it answers.
    fn(
      'claim_stated_at(n bigint)',
      'timestamptz',
      `
      SELECT date_trunc('milliseconds', least(greatest(
        timestamptz ${literal(FIRST_DAY)} + ((n - 0.5) / ${CLAIMS})::double precision * interval '${DAYS} days'
          + (bench_gen.rnd(n, 102) - 0.5) * interval '12 hours',
        timestamptz ${literal(FIRST_DAY)}),
        timestamptz ${literal(FIRST_DAY)} + interval '${DAYS} days' - interval '1 millisecond'))`,
    ),
    fn(
      'claim_created_at(n bigint, stated timestamptz)',
      'timestamptz',
      `
      SELECT date_trunc('milliseconds', stated + bench_gen.rnd(n, 103) ^ 2 * interval '72 hours')`,
    ),
    fn(
      'claim_tags(n bigint)',
      'text[]',
      `
      SELECT array_agg(DISTINCT (bench_gen.tag_vocabulary())[1 + floor(${TAGS.length} * bench_gen.rnd(n * 8 + k, 107) ^ 2)::int])
      FROM generate_series(1, 1 + floor(3 * bench_gen.rnd(n, 108))::int) k`,
    ),
    // Timestamps in sources as the API stores them: toISOString(), milliseconds and Z.
    plpgsql(
      'claim_sources(n bigint, stated timestamptz)',
      'jsonb',
      `
      DECLARE
        result jsonb := '[]';
        publisher text;
        title text;
        published timestamptz;
      BEGIN
        FOR k IN 1..CASE WHEN bench_gen.rnd(n, 120) < 0.35 THEN 2 ELSE 1 END LOOP
          publisher := (${textArray(PUBLISHERS)})[1 + floor(${PUBLISHERS.length} * bench_gen.rnd(n * 4 + k, 121))::int];
          title := bench_gen.words(n * 4 + k, 122, 4 + floor(5 * bench_gen.rnd(n * 4 + k, 123))::int);
          published := date_trunc('milliseconds', stated + bench_gen.rnd(n * 4 + k, 124) ^ 2 * interval '36 hours');
          result := result || jsonb_build_object(
            'url', format('https://%s.example/news/%s/%s-%s', lower(replace(publisher, ' ', '-')),
                          to_char(published AT TIME ZONE 'UTC', 'YYYY/MM/DD'), replace(title, ' ', '-'), n),
            'publisher', publisher,
            'title', initcap(title),
            'published_at', to_char(published AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'));
        END LOOP;
        RETURN result;
      END`,
    ),
    // How far, in claims, a response lies from what it answers: exponential with a mean in days, and one time
    // in ten before it (a rebuttal found later of an earlier statement).
    fn(
      'response_offset(m bigint, salt bigint, mean_days double precision)',
      'bigint',
      `
      SELECT (CASE WHEN bench_gen.rnd(m, salt) < 0.9 THEN 1 ELSE -1 END)
             * greatest(1, round(-ln(1 - bench_gen.rnd(m, salt + 1)) * mean_days * ${CLAIMS_PER_DAY}))::bigint`,
    ),
    fn('hot(m bigint)', 'boolean', `SELECT bench_gen.rnd(m, 201) < ${HOT_SHARE}`),
    fn(
      'l1_to(m bigint)',
      'bigint',
      `
      SELECT CASE WHEN bench_gen.hot(m)
        THEN 1 + floor(${CLAIMS} * bench_gen.rnd(1 + floor(${HOT_CLAIMS} * bench_gen.rnd(m, 202) ^ 2)::bigint, 203))::bigint
        ELSE 1 + floor(${CLAIMS} * bench_gen.rnd(m, 204))::bigint END`,
    ),
    fn(
      'l1_from(m bigint)',
      'bigint',
      `
      SELECT bench_gen.l1_to(m) + bench_gen.response_offset(m, 205, CASE WHEN bench_gen.hot(m) THEN 10 ELSE 2 END)`,
    ),
    fn('l2_parent(m bigint)', 'bigint', `SELECT 1 + floor(${STAGE_1} * bench_gen.rnd(m, 301))::bigint`),
    fn('l2_to(m bigint)', 'bigint', 'SELECT bench_gen.l1_from(bench_gen.l2_parent(m))'),
    fn('l2_from(m bigint)', 'bigint', 'SELECT bench_gen.l2_to(m) + bench_gen.response_offset(m, 302, 1)'),
    fn('l3_parent(m bigint)', 'bigint', `SELECT 1 + floor(${STAGE_2} * bench_gen.rnd(m, 401))::bigint`),
    fn('l3_to(m bigint)', 'bigint', 'SELECT bench_gen.l2_from(bench_gen.l3_parent(m))'),
    fn('l3_from(m bigint)', 'bigint', 'SELECT bench_gen.l3_to(m) + bench_gen.response_offset(m, 402, 1)'),
  ].join('\n')
}

const statesSql = `
  INSERT INTO parties (id, slug, name, kind, country, created_at, updated_at)
  SELECT bench_gen.uuid_of('party-', n), 'party-' || lpad(n::text, 6, '0'),
         (${textArray(STATE_NAMES)})[1 + (n - 1) % ${STATE_NAMES.length}]
           || CASE WHEN n > ${STATE_NAMES.length} THEN ' ' || (1 + (n - 1) / ${STATE_NAMES.length}) ELSE '' END,
         'state', chr(65 + ((n - 1) / 26) % 26::int) || chr(65 + (n - 1) % 26::int),
         timestamptz '2019-12-01 00:00:00+00' + n * interval '1 minute',
         timestamptz '2019-12-01 00:00:00+00' + n * interval '1 minute'
  FROM generate_series(1, ${STATES}) n`

// Every other party speaks for a state, except some of the media.
const partiesSql = `
  INSERT INTO parties (id, slug, name, kind, country, side_id, created_at, updated_at)
  SELECT bench_gen.uuid_of('party-', p.n), 'party-' || lpad(p.n::text, 6, '0'),
         CASE WHEN p.side IS NULL THEN 'Independent ' || p.label || ' ' || p.n ELSE s.name || ' ' || p.label || ' ' || p.n END,
         p.kind, s.country, s.id, p.created_at, p.created_at
  FROM (
    SELECT n, k.kind, k.label,
           CASE WHEN k.kind = 'media' AND bench_gen.rnd(n, 12) < 0.3 THEN NULL
                ELSE 1 + floor(${STATES} * bench_gen.rnd(n, 13))::bigint END AS side,
           timestamptz '2019-12-01 00:00:00+00' + n * interval '1 minute' AS created_at
    FROM generate_series(${STATES + 1}, ${PARTIES}) n
    CROSS JOIN LATERAL (
      SELECT (${textArray(KINDS)})[i] AS kind, (${textArray(KINDS.map((kind) => KIND_LABELS[kind]))})[i] AS label
      FROM (SELECT CASE WHEN u < 0.25 THEN 1 WHEN u < 0.45 THEN 2 WHEN u < 0.7 THEN 3 WHEN u < 0.85 THEN 4 ELSE 5 END AS i
            FROM (SELECT bench_gen.rnd(n, 11) AS u) r) c
    ) k
  ) p
  LEFT JOIN parties s ON s.id = bench_gen.uuid_of('party-', p.side)`

/** The events, spread over the three years; each named after its row, tagged like claims. */
const eventsSql = `
  INSERT INTO events (id, slug, name, starts_at, starts_at_precision, tags, created_at, updated_at)
  SELECT bench_gen.uuid_of('event-', n), 'event-' || n, 'Event ' || n,
         date_trunc('day', timestamptz '${FIRST_DAY}' + bench_gen.rnd(n, 160) * interval '${DAYS} days'), 'day',
         bench_gen.claim_tags(n), timestamptz '${FIRST_DAY}', timestamptz '${FIRST_DAY}'
  FROM generate_series(1, ${EVENTS}) n`

/** The event a claim is about, for ATTACHED of them: a random event (claims of one event span the years). */
const claimEvent = (n: string) =>
  `CASE WHEN bench_gen.rnd(${n}, 150) < ${ATTACHED} THEN bench_gen.uuid_of('event-', 1 + floor(${EVENTS} * bench_gen.rnd(${n}, 151))::int) END`

/**
 * Figures for FIGURED of the claims about an event: a first one of a random measure, a number or (one in four) a
 * range, and for one in five of them a second, of the next measure.
 */
const figuresSql = `
  INSERT INTO claim_figures (claim_id, position, measure, value, low, high, unit, qualifier)
  SELECT bench_gen.uuid_of('claim-', g.n), f.position, (${textArray(MEASURES)})[1 + (g.m + f.position) % ${MEASURES.length}],
         CASE WHEN g.ranged THEN NULL ELSE g.size END,
         CASE WHEN g.ranged THEN floor(g.size / 2) END, CASE WHEN g.ranged THEN g.size END,
         'people', CASE WHEN g.ranged THEN NULL WHEN bench_gen.rnd(g.n, 156) < 0.3 THEN 'at least' END
  FROM (
    SELECT n, floor(${MEASURES.length} * bench_gen.rnd(n, 153))::int AS m, bench_gen.rnd(n, 154) < 0.25 AS ranged,
           (1 + floor(1000 * bench_gen.rnd(n, 155) ^ 3))::numeric AS size
    FROM generate_series(1, ${CLAIMS}) n
    WHERE bench_gen.rnd(n, 150) < ${ATTACHED} AND bench_gen.rnd(n, 152) < ${FIGURED}
  ) g
  CROSS JOIN LATERAL (
    SELECT 0 AS position UNION ALL SELECT 1 WHERE bench_gen.rnd(g.n, 157) < 0.2
  ) f`

const claimsSql = `
  INSERT INTO claims (id, party_id, event_id, text, quote, stated_at, event_at, event_at_precision, location_name, location_lat,
                      location_lon, language, tags, sources, created_at, updated_at)
  SELECT bench_gen.uuid_of('claim-', g.n), bench_gen.uuid_of('party-', bench_gen.claim_party(g.n)), ${claimEvent('g.n')},
         bench_gen.sentence(g.source, 1001, 8 + floor(18 * bench_gen.rnd(g.source, 104))::int,
                            CASE WHEN g.source <> g.n THEN g.n ELSE 0 END),
         CASE WHEN bench_gen.rnd(g.n, 105) < 0.3
           THEN bench_gen.sentence(g.n, 1002, 10 + floor(21 * bench_gen.rnd(g.n, 106))::int) END,
         g.stated_at,
         CASE WHEN bench_gen.rnd(g.n, 140) < 0.4
           THEN date_trunc('milliseconds', g.stated_at - bench_gen.rnd(g.n, 141) ^ 2 * interval '48 hours') END,
         CASE WHEN bench_gen.rnd(g.n, 140) < 0.4 THEN 'second' END,
         CASE WHEN g.located THEN (${textArray(PLACES)})[1 + floor(${PLACES.length} * bench_gen.rnd(g.n, 131))::int] END,
         CASE WHEN g.located THEN round((39 + 2 * bench_gen.rnd(g.n, 132))::numeric, 5)::double precision END,
         CASE WHEN g.located THEN round((45 + 2.5 * bench_gen.rnd(g.n, 133))::numeric, 5)::double precision END,
         'en', bench_gen.claim_tags(g.n), bench_gen.claim_sources(g.n, g.stated_at),
         bench_gen.claim_created_at(g.n, g.stated_at), bench_gen.claim_created_at(g.n, g.stated_at)
  FROM (
    SELECT n, bench_gen.reworded_from(n) AS source, bench_gen.claim_stated_at(n) AS stated_at,
           bench_gen.rnd(n, 130) < 0.15 AS located
    FROM generate_series(1, ${CLAIMS}) n
    OFFSET 0
  ) g`

/**
 * One level of links, numbered m in [first, last]. Candidates between claims of the same party, or reaching past
 * the first or last claim, are dropped; a link the unique indexes of links refuse (a second live link between
 * the same claims) is skipped, as the API refuses it. Levels 2 and 3 answer the responding claim of an existing
 * link of the level above.
 */
function linksSql(stage: 1 | 2 | 3, first: number, last: number, limit?: number): string {
  const parent =
    stage === 1
      ? ''
      : `JOIN links parent ON parent.id = bench_gen.uuid_of('link-${stage - 1}-', bench_gen.l${stage}_parent(m))`
  const salt = stage * 1000
  return `
  INSERT INTO links (id, from_claim_id, to_claim_id, from_party_id, to_party_id, to_claim_tags, to_claim_stated_at,
                     from_claim_stated_at, kind, note, created_at, updated_at)
  SELECT bench_gen.uuid_of('link-${stage}-', x.m), bench_gen.uuid_of('claim-', x.f), bench_gen.uuid_of('claim-', x.t),
         bench_gen.uuid_of('party-', x.fp), bench_gen.uuid_of('party-', x.tp),
         bench_gen.claim_tags(x.t), bench_gen.claim_stated_at(x.t), bench_gen.claim_stated_at(x.f),
         CASE WHEN bench_gen.rnd(x.m, ${salt + 10}) < 0.8 THEN 'rebuts' ELSE 'supports' END,
         CASE WHEN bench_gen.rnd(x.m, ${salt + 11}) < 0.15
           THEN bench_gen.sentence(x.m, ${salt + 12}, 5 + floor(10 * bench_gen.rnd(x.m, ${salt + 13}))::int) END,
         x.created_at, x.created_at
  FROM (
    SELECT y.m, y.f, y.t, bench_gen.claim_party(y.f) AS fp, bench_gen.claim_party(y.t) AS tp,
           date_trunc('milliseconds', greatest(
             bench_gen.claim_created_at(y.f, bench_gen.claim_stated_at(y.f)),
             bench_gen.claim_created_at(y.t, bench_gen.claim_stated_at(y.t))
           ) + bench_gen.rnd(y.m, ${salt + 14}) ^ 2 * interval '24 hours') AS created_at
    FROM (
      SELECT m, bench_gen.l${stage}_from(m) AS f, bench_gen.l${stage}_to(m) AS t
      FROM generate_series(${first}, ${last}) m ${parent}
      OFFSET 0
    ) y
    WHERE y.f BETWEEN 1 AND ${CLAIMS} AND y.f <> y.t
    OFFSET 0
  ) x
  WHERE x.fp <> x.tp
  ${limit === undefined ? '' : `LIMIT ${limit}`}
  ON CONFLICT DO NOTHING`
}

// The derived columns exactly as recountResponses (src/repositories/derived-state.repository.ts) sets them, for every
// answered claim at once: unanswered claims keep the defaults the recount would give them (0, 0, nulls, current).
const recountSql = `
  UPDATE claims c
  SET rebuttal_count = counted.rebuttals, support_count = counted.supports, last_response_at = counted.latest,
      first_response_at = counted.first_response, disputed_since = counted.first_rebuttal, standing = counted.standing
  FROM (
    SELECT l.to_claim_id AS id,
           count(l.id) FILTER (WHERE l.kind = 'rebuts') AS rebuttals,
           count(l.id) FILTER (WHERE l.kind = 'supports') AS supports,
           max(responder.stated_at) FILTER (WHERE l.kind IN ('rebuts', 'supports')) AS latest,
           min(responder.stated_at) FILTER (WHERE l.kind IN ('rebuts', 'supports')) AS first_response,
           min(responder.stated_at) FILTER (WHERE l.kind = 'rebuts') AS first_rebuttal,
           CASE WHEN bool_or(l.kind = 'retracts') THEN 'retracted'
                WHEN bool_or(l.kind = 'corrects') THEN 'corrected' ELSE 'current' END AS standing
    FROM links l JOIN claims responder ON responder.id = l.from_claim_id AND responder.deleted_at IS NULL
    WHERE l.deleted_at IS NULL
    GROUP BY l.to_claim_id
  ) counted
  WHERE c.id = counted.id`

// The counts per (claimant, rebutter) as the migration creating rebuttal_pairs computes them, and as
// countResponsePairs (src/repositories/derived-state.repository.ts) keeps them with every rebuttal made or deleted.
const rebuttalPairsSql = `
  INSERT INTO rebuttal_pairs (claimant_party_id, rebutter_party_id, rebuttals)
  SELECT to_party_id, from_party_id, count(*)
  FROM links
  WHERE kind = 'rebuts' AND deleted_at IS NULL
  GROUP BY to_party_id, from_party_id`

// The same for supports, as the migration creating support_pairs computes them.
const supportPairsSql = `
  INSERT INTO support_pairs (claimant_party_id, supporter_party_id, supports)
  SELECT to_party_id, from_party_id, count(*)
  FROM links
  WHERE kind = 'supports' AND deleted_at IS NULL
  GROUP BY to_party_id, from_party_id`

/** Every index of the public schema, by name, as pg_get_indexdef writes it. */
async function indexDefinitions(db: Kysely<Database>) {
  const { rows } = await sql<{ name: string; definition: string; unique: boolean; table: string }>`
    SELECT ic.relname AS name, pg_get_indexdef(i.indexrelid) AS definition, t.relname AS table,
           i.indisunique AS unique
    FROM pg_index i
    JOIN pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_class t ON t.oid = i.indrelid
    WHERE t.relnamespace = 'public'::regnamespace
    ORDER BY ic.relname`.execute(db)
  return rows
}

/** Kept in the record, so that a benchmark reusing the data can still say how fast each part was loaded. */
const steps: NonNullable<GenerationRecord['steps']> = []

async function step<T extends number | void>(name: string, run: () => Promise<T>): Promise<T> {
  const startedAt = process.hrtime.bigint()
  const rows = await run()
  const elapsed = seconds(startedAt)
  steps.push({ name, seconds: Math.round(elapsed * 100) / 100, ...(typeof rows === 'number' ? { rows } : {}) })
  const rate =
    typeof rows === 'number'
      ? `  ${rows.toLocaleString('en')} rows, ${Math.round(rows / elapsed).toLocaleString('en')} rows/s`
      : ''
  console.log(`${name.padEnd(34)} ${elapsed.toFixed(2).padStart(8)} s${rate}`)
  return rows
}

const affected = (result: { numAffectedRows?: bigint }) => Number(result.numAffectedRows ?? 0n)

async function count(db: Kysely<Database>, query: string): Promise<number> {
  const { rows } = await sql<{ n: string }>`${sql.raw(query)}`.execute(db)
  return Number(rows[0]!.n)
}

const startedAt = process.hrtime.bigint()
console.log(
  `scale ${scale}: ${PARTIES.toLocaleString('en')} parties (${STATES} states), ${CLAIMS.toLocaleString('en')} claims, ` +
    `${LINKS.toLocaleString('en')} links, into database ${database}`,
)

await step('create database', async () => {
  const admin = new pg.Client({ connectionString: server.toString(), application_name: 'counterclaim-bench' })
  await admin.connect()
  try {
    // FORCE ends the sessions still open on the scratch database (an explain run, a psql): it is rebuilt anyway.
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
    await admin.query(`CREATE DATABASE ${database}`)
  } finally {
    await admin.end()
  }
})

// One connection: the session settings below hold for every statement, and nothing else is running.
const handle = openServerDatabase({ url: databaseUrl(server, database), poolMax: 1, statementTimeoutMs: 0 })
let record: GenerationRecord
try {
  const { db } = handle
  await step('migrate', async () => {
    await migrateToLatest(db)
  })
  const migrated = await indexDefinitions(db)

  record = await db.connection().execute(async (conn) => {
    // Fingerprints print timestamps; the UTC zone makes them the same whatever the server's TimeZone is.
    await sql`SET TimeZone = 'UTC'`.execute(conn)
    await sql`SET synchronous_commit = off`.execute(conn)
    await sql`SET maintenance_work_mem = '512MB'`.execute(conn)
    await sql`SET work_mem = '128MB'`.execute(conn)
    await step('generator functions', async () => {
      await sql.raw(generatorFunctions()).execute(conn)
    })

    // Built afterwards, from the definitions the migrations made, an index costs one sort instead of a million
    // random insertions (two of them GIN). Unique indexes stay: primary keys (foreign keys need them), and those
    // on links, which decide which candidate links are skipped.
    const deferred = migrated.filter(
      (index) => !index.unique && ['claims', 'links', 'claim_figures'].includes(index.table),
    )
    if (!options['load-with-indexes']) {
      await step(`drop ${deferred.length} secondary indexes`, async () => {
        for (const index of deferred) await sql`DROP INDEX ${sql.id(index.name)}`.execute(conn)
      })
    }

    await step('parties', async () => {
      const states = affected(await sql.raw(statesSql).execute(conn))
      return states + affected(await sql.raw(partiesSql).execute(conn))
    })
    await step('events', async () => affected(await sql.raw(eventsSql).execute(conn)))
    await step('claims', async () => affected(await sql.raw(claimsSql).execute(conn)))
    await step('figures', async () => affected(await sql.raw(figuresSql).execute(conn)))
    await step('links: responses to claims', async () => affected(await sql.raw(linksSql(1, 1, STAGE_1)).execute(conn)))
    await step('links: responses to responses', async () =>
      affected(await sql.raw(linksSql(2, 1, STAGE_2)).execute(conn)),
    )
    await step('links: third level', async () => affected(await sql.raw(linksSql(3, 1, STAGE_3)).execute(conn)))
    await step('links: top-up to the target', async () => {
      let added = 0
      let next = STAGE_1 + 1
      for (let missing = LINKS - (await count(conn, 'SELECT count(*) AS n FROM links')); missing > 0;) {
        // Twice what is missing: more than the filters and duplicates drop, and LIMIT stops at the target.
        const last = next + 2 * missing + 100
        const inserted = affected(await sql.raw(linksSql(1, next, last, missing)).execute(conn))
        if (inserted === 0) throw new Error(`no link could be added between responses ${next} and ${last}`)
        added += inserted
        missing -= inserted
        next = last + 1
      }
      return added
    })
    await step('recount responses (one UPDATE)', async () => affected(await sql.raw(recountSql).execute(conn)))
    // The migration that made rebuttal_pairs filled it from the links there were; here there were none yet.
    const { rows: pairsTable } = await sql<{ found: boolean }>`
      SELECT to_regclass('public.rebuttal_pairs') IS NOT NULL AS found`.execute(conn)
    if (pairsTable[0]?.found) {
      await step('rebuttal pairs', async () => affected(await sql.raw(rebuttalPairsSql).execute(conn)))
    }
    const { rows: supportTable } = await sql<{ found: boolean }>`
      SELECT to_regclass('public.support_pairs') IS NOT NULL AS found`.execute(conn)
    if (supportTable[0]?.found) {
      await step('support pairs', async () => affected(await sql.raw(supportPairsSql).execute(conn)))
    }

    if (!options['load-with-indexes']) {
      await step(`build ${deferred.length} secondary indexes`, async () => {
        for (const index of deferred) await sql.raw(index.definition).execute(conn)
      })
    }
    await step('drop generator functions', async () => {
      await sql`DROP SCHEMA bench_gen CASCADE`.execute(conn)
    })
    const rebuilt = await indexDefinitions(conn)
    const same = JSON.stringify(rebuilt.map((i) => i.definition)) === JSON.stringify(migrated.map((i) => i.definition))
    if (!same) throw new Error('the indexes after the load differ from those the migrations made')

    await step('vacuum analyze', async () => {
      await sql`VACUUM ANALYZE`.execute(conn)
    })

    const counts = {
      parties: await count(conn, 'SELECT count(*) AS n FROM parties'),
      claims: await count(conn, 'SELECT count(*) AS n FROM claims'),
      links: await count(conn, 'SELECT count(*) AS n FROM links'),
      disputed: await count(conn, 'SELECT count(*) AS n FROM claims WHERE deleted_at IS NULL AND rebuttal_count > 0'),
    }
    // Order-independent sums of row hashes: equal between two runs when every column of every row is.
    const { rows } = await sql<{ fingerprint: string }>`
      SELECT md5(concat_ws(':',
        (SELECT sum(hashtextextended(p::text, 0)::numeric) FROM parties p),
        (SELECT sum(hashtextextended(c::text, 0)::numeric) FROM claims c),
        (SELECT sum(hashtextextended(l::text, 0)::numeric) FROM links l))) AS fingerprint`.execute(conn)
    const { rows: applied } = await sql<{ name: string }>`SELECT max(name) AS name FROM kysely_migration`.execute(conn)
    return {
      migration: applied[0]!.name,
      command: commandLine(server),
      scale,
      generated_at: new Date().toISOString(),
      seconds: Math.round(seconds(startedAt) * 10) / 10,
      counts,
      fingerprint: rows[0]!.fingerprint,
      steps,
    }
  })

  await sql`COMMENT ON DATABASE ${sql.id(database)} IS ${sql.lit(JSON.stringify(record))}`.execute(db)
  const shape = await sql<Record<string, string>>`
    SELECT (SELECT count(*) FROM links WHERE kind = 'rebuts') AS rebuts,
           (SELECT count(*) FROM links WHERE kind = 'supports') AS supports,
           (SELECT max(rebuttal_count) FROM claims) AS most_rebuttals,
           (SELECT count(*) FROM claims WHERE rebuttal_count >= 100) AS claims_with_100_rebuttals,
           (SELECT round(100.0 * count(*) FILTER (WHERE f.stated_at > t.stated_at) / count(*), 1)
            FROM links l JOIN claims f ON f.id = l.from_claim_id JOIN claims t ON t.id = l.to_claim_id)
             AS pct_responses_stated_after,
           (SELECT count(*) FROM claims WHERE quote IS NOT NULL) AS with_quote,
           pg_size_pretty(pg_database_size(current_database())) AS database_size`.execute(db)
  console.log(
    '\nshape:',
    Object.entries(shape.rows[0]!)
      .map(([k, v]) => `${k} ${v}`)
      .join(', '),
  )
} finally {
  await handle.close()
}

const { counts } = record
console.log(`\ntotal ${seconds(startedAt).toFixed(1)} s`)
console.log(
  `rows: parties ${counts.parties.toLocaleString('en')}, claims ${counts.claims.toLocaleString('en')}, ` +
    `links ${counts.links.toLocaleString('en')}; disputed claims ${counts.disputed.toLocaleString('en')}`,
)
console.log(`fingerprint ${record.fingerprint}`)
