package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/candorhq/candor"
	"github.com/jackc/pgx/v5"
)

// PutStaff implements [candor.StaffStore].
func (db *DB) PutStaff(ctx context.Context, m candor.StaffMember) error {
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, db.q(`INSERT INTO {data}.staff (id, email, name, role, password_hash, totp_sealed, totp_step, disabled, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`), m.ID, m.Email, m.Name, m.Role, m.PasswordHash, nullBytes(m.TOTPSealed), m.TOTPStep, m.Disabled, m.CreatedAt, m.UpdatedAt)
		if pgCode(err) == uniqueViolation {
			return candor.Errorf(candor.ECONFLICT, "a staff member with this id or e-mail exists")
		}
		if err != nil {
			return err
		}
		return db.putRecovery(ctx, tx, m.ID, m.Recovery)
	})
	return wrap("put staff", err)
}

// putRecovery inserts the account's recovery code hashes, in order.
func (db *DB) putRecovery(ctx context.Context, tx pgx.Tx, id string, hashes [][]byte) error {
	if len(hashes) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, db.q(`INSERT INTO {data}.staff_recovery (staff_id, hash, n)
		SELECT $1, h, n - 1 FROM unnest($2::bytea[]) WITH ORDINALITY AS u(h, n) ON CONFLICT DO NOTHING`), id, hashes)
	return err
}

// nullBytes stores an empty slice as NULL.
func nullBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// staffColumns reads an account with its recovery code hashes, in order,
// in one statement.
const staffColumns = `id, email, name, role, password_hash, totp_sealed, totp_step, disabled, created_at, updated_at,
	ARRAY(SELECT hash FROM {data}.staff_recovery r WHERE r.staff_id = s.id ORDER BY n)`

func scanStaff(row pgx.Row) (candor.StaffMember, error) {
	var m candor.StaffMember
	err := row.Scan(&m.ID, &m.Email, &m.Name, &m.Role, &m.PasswordHash, &m.TOTPSealed, &m.TOTPStep, &m.Disabled, &m.CreatedAt, &m.UpdatedAt, &m.Recovery)
	m.CreatedAt, m.UpdatedAt = m.CreatedAt.UTC(), m.UpdatedAt.UTC()
	if len(m.Recovery) == 0 {
		m.Recovery = nil
	}
	return m, err
}

func (db *DB) staffWhere(ctx context.Context, where string, arg any) (*candor.StaffMember, error) {
	m, err := scanStaff(db.pool.QueryRow(ctx, db.q(`SELECT `+staffColumns+` FROM {data}.staff s WHERE `+where), arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, candor.Errorf(candor.ENOTFOUND, "staff member not found")
	}
	if err != nil {
		return nil, wrap("staff", err)
	}
	return &m, nil
}

// Staff implements [candor.StaffStore].
func (db *DB) Staff(ctx context.Context, id string) (*candor.StaffMember, error) {
	return db.staffWhere(ctx, `id = $1`, id)
}

// StaffByEmail implements [candor.StaffStore].
func (db *DB) StaffByEmail(ctx context.Context, email string) (*candor.StaffMember, error) {
	return db.staffWhere(ctx, `email = $1`, email)
}

// ListStaff implements [candor.StaffStore].
func (db *DB) ListStaff(ctx context.Context) ([]candor.StaffMember, error) {
	rows, _ := db.pool.Query(ctx, db.q(`SELECT `+staffColumns+` FROM {data}.staff s ORDER BY email`))
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (candor.StaffMember, error) { return scanStaff(r) })
	return out, wrap("list staff", err)
}

// UpdateStaff implements [candor.StaffStore].
func (db *DB) UpdateStaff(ctx context.Context, m candor.StaffMember) error {
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, db.q(`UPDATE {data}.staff SET name = $1, role = $2, password_hash = $3, totp_sealed = $4, disabled = disabled OR $5, updated_at = $6 WHERE id = $7`),
			m.Name, m.Role, m.PasswordHash, nullBytes(m.TOTPSealed), m.Disabled, m.UpdatedAt, m.ID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return candor.Errorf(candor.ENOTFOUND, "staff member not found")
		}
		if _, err := tx.Exec(ctx, db.q(`DELETE FROM {data}.staff_recovery WHERE staff_id = $1`), m.ID); err != nil {
			return err
		}
		return db.putRecovery(ctx, tx, m.ID, m.Recovery)
	})
	return wrap("update staff", err)
}

// UseTOTPStep implements [candor.StaffStore]: one conditional UPDATE (the
// row lock orders racing nodes, and the loser re-checks the condition), so
// of two racing uses of a step one sees true. ENOTFOUND for no account.
func (db *DB) UseTOTPStep(ctx context.Context, id string, step int64) (bool, error) {
	tag, err := db.pool.Exec(ctx, db.q(`UPDATE {data}.staff SET totp_step = $1 WHERE id = $2 AND totp_step < $1`), step, id)
	if err != nil {
		return false, wrap("use totp step", err)
	}
	if tag.RowsAffected() == 1 {
		return true, nil
	}
	return false, db.staffExists(ctx, id)
}

// UseRecoveryCode implements [candor.StaffStore]: one DELETE, so of two
// racing uses one sees true. ENOTFOUND for no account.
func (db *DB) UseRecoveryCode(ctx context.Context, id string, hash []byte) (bool, error) {
	tag, err := db.pool.Exec(ctx, db.q(`DELETE FROM {data}.staff_recovery WHERE staff_id = $1 AND hash = $2`), id, hash)
	if err != nil {
		return false, wrap("use recovery code", err)
	}
	if tag.RowsAffected() == 1 {
		return true, nil
	}
	return false, db.staffExists(ctx, id)
}

// staffExists returns ENOTFOUND if there is no account with the id.
func (db *DB) staffExists(ctx context.Context, id string) error {
	var ok bool
	if err := db.pool.QueryRow(ctx, db.q(`SELECT EXISTS (SELECT 1 FROM {data}.staff WHERE id = $1)`), id).Scan(&ok); err != nil {
		return wrap("staff", err)
	}
	if !ok {
		return candor.Errorf(candor.ENOTFOUND, "staff member not found")
	}
	return nil
}

// PutSession implements [candor.SessionStore]. ECONFLICT if the hash
// exists, EINVALID for an empty hash or an unknown kind.
func (db *DB) PutSession(ctx context.Context, s candor.Session) error {
	if err := s.Check(); err != nil {
		return err
	}
	_, err := db.pool.Exec(ctx, db.q(`INSERT INTO {data}.sessions (hash, kind, principal, data, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`),
		s.Hash, s.Kind, s.Principal, s.Data, s.CreatedAt, s.ExpiresAt)
	if pgCode(err) == uniqueViolation {
		return candor.Errorf(candor.ECONFLICT, "session exists")
	}
	return wrap("put session", err)
}

const sessionColumns = `hash, kind, principal, data, created_at, expires_at`

func scanSession(row pgx.Row) (*candor.Session, error) {
	var s candor.Session
	err := row.Scan(&s.Hash, &s.Kind, &s.Principal, &s.Data, &s.CreatedAt, &s.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, candor.Errorf(candor.ENOTFOUND, "session not found")
	}
	if err != nil {
		return nil, err
	}
	s.CreatedAt, s.ExpiresAt = s.CreatedAt.UTC(), s.ExpiresAt.UTC()
	return &s, nil
}

// Session implements [candor.SessionStore]: the hash is the primary key,
// compared byte for byte; a session whose ExpiresAt is not after now is
// not found.
func (db *DB) Session(ctx context.Context, hash []byte, now time.Time) (*candor.Session, error) {
	s, err := scanSession(db.pool.QueryRow(ctx, db.q(`SELECT `+sessionColumns+` FROM {data}.sessions WHERE hash = $1 AND expires_at > $2`), hash, now))
	return s, wrap("session", err)
}

// TakeSession implements [candor.SessionStore]: one DELETE … RETURNING, so
// of two racing takes (on any nodes) one gets the session.
func (db *DB) TakeSession(ctx context.Context, hash []byte, kind, principal string, now time.Time) (*candor.Session, error) {
	s, err := scanSession(db.pool.QueryRow(ctx, db.q(`DELETE FROM {data}.sessions WHERE hash = $1 AND kind = $2 AND principal = $3 AND expires_at > $4 RETURNING `+sessionColumns),
		hash, kind, principal, now))
	return s, wrap("take session", err)
}

// DeleteSession implements [candor.SessionStore].
func (db *DB) DeleteSession(ctx context.Context, hash []byte) error {
	_, err := db.pool.Exec(ctx, db.q(`DELETE FROM {data}.sessions WHERE hash = $1`), hash)
	return wrap("delete session", err)
}

// DeleteSessions implements [candor.SessionStore].
func (db *DB) DeleteSessions(ctx context.Context, principal string) (int, error) {
	tag, err := db.pool.Exec(ctx, db.q(`DELETE FROM {data}.sessions WHERE principal = $1`), principal)
	if err != nil {
		return 0, wrap("delete sessions", err)
	}
	return int(tag.RowsAffected()), nil
}

// PurgeSessions implements [candor.SessionStore]: it deletes the sessions
// that [DB.Session] no longer returns at now (ExpiresAt not after now).
func (db *DB) PurgeSessions(ctx context.Context, now time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx, db.q(`DELETE FROM {data}.sessions WHERE expires_at <= $1`), now)
	if err != nil {
		return 0, wrap("purge sessions", err)
	}
	return int(tag.RowsAffected()), nil
}
