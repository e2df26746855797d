import { type Kysely, sql } from 'kysely'

/**
 * Live claims whose stored derived state (rebuttal, support and repeat counts, disputed aspects and measures, first and last response times, disputed-since time, standing, review count) differs
 * from a count made afresh from the live links and reviews, live links that touch a deleted claim, and (claimant, rebutter) and (claimant, supporter)
 * pairs whose maintained rebuttal or support count differs from the live links, and live links whose copies of their claims' tags and
 * stated_at are out of date. All lists are empty when the maintained state is right.
 */
export async function derivedStateErrors(db: Kysely<any>) {
  const { rows: claims } = await sql<{ id: string }>`
    SELECT c.id FROM claims c
    LEFT JOIN LATERAL (
      SELECT count(*) FILTER (WHERE l.kind = 'rebuts') AS rebuttals,
             count(*) FILTER (WHERE l.kind = 'supports') AS supports,
             count(*) FILTER (WHERE l.kind = 'repeats') AS repeats,
             coalesce(array_agg(DISTINCT coalesce(l.aspect, 'whole') ORDER BY coalesce(l.aspect, 'whole'))
                      FILTER (WHERE l.kind = 'rebuts'), '{}') AS aspects,
             coalesce(array_agg(DISTINCT l.measure ORDER BY l.measure)
                      FILTER (WHERE l.kind = 'rebuts' AND l.measure IS NOT NULL), '{}') AS measures,
             max(r.stated_at) FILTER (WHERE l.kind IN ('rebuts', 'supports')) AS latest,
             min(r.stated_at) FILTER (WHERE l.kind IN ('rebuts', 'supports')) AS first_response,
             min(r.stated_at) FILTER (WHERE l.kind = 'rebuts') AS first_rebuttal,
             CASE WHEN count(*) FILTER (WHERE l.kind = 'retracts') > 0 THEN 'retracted'
                  WHEN count(*) FILTER (WHERE l.kind = 'corrects') > 0 THEN 'corrected'
                  ELSE 'current' END AS standing
      FROM links l JOIN claims r ON r.id = l.from_claim_id AND r.deleted_at IS NULL
      WHERE l.to_claim_id = c.id AND l.deleted_at IS NULL
    ) fresh ON true
    WHERE c.deleted_at IS NULL AND (
      c.rebuttal_count <> fresh.rebuttals OR c.support_count <> fresh.supports OR c.repeat_count <> fresh.repeats
      OR c.disputed_aspects <> fresh.aspects OR c.disputed_measures <> fresh.measures
      OR c.last_response_at IS DISTINCT FROM fresh.latest OR c.standing <> fresh.standing
      OR c.first_response_at IS DISTINCT FROM fresh.first_response OR c.disputed_since IS DISTINCT FROM fresh.first_rebuttal
      OR c.review_count <> (SELECT count(*) FROM reviews v WHERE v.claim_id = c.id AND v.deleted_at IS NULL)
    )`.execute(db)
  const { rows: links } = await sql<{ id: string }>`
    SELECT l.id FROM links l
    JOIN claims f ON f.id = l.from_claim_id
    JOIN claims t ON t.id = l.to_claim_id
    WHERE l.deleted_at IS NULL AND (f.deleted_at IS NOT NULL OR t.deleted_at IS NOT NULL)`.execute(db)
  const { rows: pairs } = await sql<{ pair: string }>`
    SELECT coalesce(kept.claimant_party_id, fresh.to_party_id) || '>' || coalesce(kept.rebutter_party_id, fresh.from_party_id) AS pair
    FROM rebuttal_pairs kept
    FULL JOIN (
      SELECT to_party_id, from_party_id, count(*) AS rebuttals FROM links
      WHERE kind = 'rebuts' AND deleted_at IS NULL GROUP BY to_party_id, from_party_id
    ) fresh ON fresh.to_party_id = kept.claimant_party_id AND fresh.from_party_id = kept.rebutter_party_id
    WHERE coalesce(kept.rebuttals, 0) <> coalesce(fresh.rebuttals, 0)`.execute(db)
  const { rows: supportPairs } = await sql<{ pair: string }>`
    SELECT coalesce(kept.claimant_party_id, fresh.to_party_id) || '>' || coalesce(kept.supporter_party_id, fresh.from_party_id) AS pair
    FROM support_pairs kept
    FULL JOIN (
      SELECT to_party_id, from_party_id, count(*) AS supports FROM links
      WHERE kind = 'supports' AND deleted_at IS NULL GROUP BY to_party_id, from_party_id
    ) fresh ON fresh.to_party_id = kept.claimant_party_id AND fresh.from_party_id = kept.supporter_party_id
    WHERE coalesce(kept.supports, 0) <> coalesce(fresh.supports, 0)`.execute(db)
  const { rows: copies } = await sql<{ id: string }>`
    SELECT l.id FROM links l JOIN claims t ON t.id = l.to_claim_id
    JOIN claims f ON f.id = l.from_claim_id
    WHERE l.deleted_at IS NULL
      AND (l.to_claim_tags <> t.tags OR l.to_claim_stated_at <> t.stated_at OR l.from_claim_stated_at <> f.stated_at)`.execute(
    db,
  )
  return {
    claims: claims.map((row) => row.id),
    links: links.map((row) => row.id),
    pairs: [...pairs.map((row) => row.pair), ...supportPairs.map((row) => `supports ${row.pair}`)],
    copies: copies.map((row) => row.id),
  }
}
