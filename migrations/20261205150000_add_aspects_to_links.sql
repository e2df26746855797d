-- A rebuttal or support may say which part of the claim it answers (its cause, a figure, who did it, when, where,
-- the evidence), and for a figure which measure (a slug: deaths, injured, or the desk's own). None: the whole claim.
ALTER TABLE links ADD COLUMN aspect text
  CHECK (aspect IN ('cause', 'figure', 'attribution', 'timing', 'location', 'evidence', 'other'));
ALTER TABLE links ADD COLUMN measure text
  CHECK (char_length(measure) <= 50 AND measure ~ '^[a-z0-9]+(-[a-z0-9]+)*$');
ALTER TABLE links ADD CONSTRAINT links_measure_of_figure_check CHECK (measure IS NULL OR aspect = 'figure');
ALTER TABLE links ADD CONSTRAINT links_aspect_of_response_check CHECK (aspect IS NULL OR kind IN ('rebuts', 'supports'));
