-- Two more normalised verdicts, between mostly-false and mostly-true: misleading (accurate pieces that leave a
-- false impression) and missing-context (true as far as it goes, but it leaves out what changes its meaning).
ALTER TABLE reviews DROP CONSTRAINT reviews_verdict_check;
ALTER TABLE reviews ADD CONSTRAINT reviews_verdict_check CHECK (
  verdict IN ('false', 'mostly-false', 'misleading', 'mixed', 'missing-context', 'mostly-true', 'true', 'unproven')
);
