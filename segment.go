package candor

import (
	"context"
	"time"
)

// PrefixSegment begins the id of a saved segment.
const PrefixSegment = "seg_"

// Segment is a saved rule that picks people for a purpose (segment.Rule
// is its language). A dynamic segment is evaluated each time it is read;
// a snapshot keeps the ids of the people it matched when it was saved,
// and yields, when read, those of them whose decision allows the purpose
// then. A segment holds no personal data: its name, its rule (field and
// event names, operators and values typed by staff) and, for a snapshot,
// subject ids.
type Segment struct {
	ID      string
	Name    string
	Purpose string
	// Rule is the rule's JSON, as segment.Parse accepts it.
	Rule     []byte
	Snapshot bool
	// Members is, for a snapshot, how many ids it keeps (people erased
	// since are gone from it); 0 for a dynamic segment.
	Members   int
	CreatedBy string // the actor that saved it
	CreatedAt time.Time
}

// SegmentStore keeps saved segments and the members of snapshots. A
// person's memberships go with their erasure, and move with a merge to
// the person merged into.
type SegmentStore interface {
	// PutSegment stores a new segment and, for a snapshot, its members
	// (subject ids no longer on file are skipped), in one transaction.
	// ECONFLICT if its id exists.
	PutSegment(ctx context.Context, s Segment, members []string) error
	// Segment returns a segment with its Members count, or ENOTFOUND.
	Segment(ctx context.Context, id string) (*Segment, error)
	// Segments returns up to limit segments with ids greater than after,
	// by id, with their Members counts.
	Segments(ctx context.Context, after string, limit int) ([]Segment, error)
	// DeleteSegment deletes a segment and its members. ENOTFOUND.
	DeleteSegment(ctx context.Context, id string) error
	// SegmentMembers returns up to limit subject ids of a snapshot's
	// members greater than after, in order (none for a dynamic segment
	// or an unknown one).
	SegmentMembers(ctx context.Context, segmentID, after string, limit int) ([]string, error)
}
