package sqlite

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/candorhq/candor"
)

// PutStaff implements [candor.StaffStore].
func (db *DB) PutStaff(ctx context.Context, m candor.StaffMember) error {
	tx, err := db.data.w.BeginTx(ctx, nil)
	if err != nil {
		return wrap("put staff", err)
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `INSERT INTO staff (id, email, name, role, password_hash, totp_sealed, totp_step, disabled, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, m.ID, m.Email, m.Name, m.Role, m.PasswordHash, nullBytes(m.TOTPSealed), m.TOTPStep, m.Disabled, ts(m.CreatedAt), ts(m.UpdatedAt))
	if isConstraint(err) {
		return candor.Errorf(candor.ECONFLICT, "a staff member with this id or e-mail exists")
	}
	if err != nil {
		return wrap("put staff", err)
	}
	if err := putRecovery(ctx, tx, m.ID, m.Recovery); err != nil {
		return wrap("put staff: recovery codes", err)
	}
	return wrap("put staff: commit", tx.Commit())
}

// putRecovery inserts the account's recovery code hashes, in order.
func putRecovery(ctx context.Context, tx *sql.Tx, id string, hashes [][]byte) error {
	for i, h := range hashes {
		if _, err := tx.ExecContext(ctx, `INSERT INTO staff_recovery (staff_id, hash, n) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, id, h, i); err != nil {
			return err
		}
	}
	return nil
}

// nullBytes stores an empty slice as NULL.
func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// staffColumns reads an account with its recovery code hashes (hex, comma
// separated, in order) in one statement, so in one snapshot.
const staffColumns = `id, email, name, role, password_hash, totp_sealed, totp_step, disabled, created_at, updated_at,
	(SELECT group_concat(hex(hash), ',' ORDER BY n) FROM staff_recovery r WHERE r.staff_id = s.id)`

func scanStaff(sc interface{ Scan(...any) error }) (*candor.StaffMember, error) {
	var m candor.StaffMember
	var created, updated string
	var recovery sql.NullString
	if err := sc.Scan(&m.ID, &m.Email, &m.Name, &m.Role, &m.PasswordHash, &m.TOTPSealed, &m.TOTPStep, &m.Disabled, &created, &updated, &recovery); err != nil {
		return nil, err
	}
	m.CreatedAt, m.UpdatedAt = parseTS(created), parseTS(updated)
	if recovery.String != "" {
		for _, h := range strings.Split(recovery.String, ",") {
			b, err := hex.DecodeString(h)
			if err != nil {
				return nil, err
			}
			m.Recovery = append(m.Recovery, b)
		}
	}
	return &m, nil
}

func (db *DB) staffWhere(ctx context.Context, where string, arg any) (*candor.StaffMember, error) {
	m, err := scanStaff(db.data.queryRow(ctx, `SELECT `+staffColumns+` FROM staff s WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, candor.Errorf(candor.ENOTFOUND, "staff member not found")
	}
	return m, wrap("staff", err)
}

// Staff implements [candor.StaffStore].
func (db *DB) Staff(ctx context.Context, id string) (*candor.StaffMember, error) {
	return db.staffWhere(ctx, `id = ?`, id)
}

// StaffByEmail implements [candor.StaffStore].
func (db *DB) StaffByEmail(ctx context.Context, email string) (*candor.StaffMember, error) {
	return db.staffWhere(ctx, `email = ?`, email)
}

// ListStaff implements [candor.StaffStore].
func (db *DB) ListStaff(ctx context.Context) ([]candor.StaffMember, error) {
	rows, err := db.data.query(ctx, `SELECT `+staffColumns+` FROM staff s ORDER BY email`)
	if err != nil {
		return nil, wrap("list staff", err)
	}
	defer rows.Close()
	var out []candor.StaffMember
	for rows.Next() {
		m, err := scanStaff(rows)
		if err != nil {
			return nil, wrap("list staff", err)
		}
		out = append(out, *m)
	}
	return out, wrap("list staff", rows.Err())
}

// UpdateStaff implements [candor.StaffStore].
func (db *DB) UpdateStaff(ctx context.Context, m candor.StaffMember) error {
	tx, err := db.data.w.BeginTx(ctx, nil)
	if err != nil {
		return wrap("update staff", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE staff SET name = ?, role = ?, password_hash = ?, totp_sealed = ?, disabled = max(disabled, ?), updated_at = ? WHERE id = ?`,
		m.Name, m.Role, m.PasswordHash, nullBytes(m.TOTPSealed), m.Disabled, ts(m.UpdatedAt), m.ID)
	if err != nil {
		return wrap("update staff", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return candor.Errorf(candor.ENOTFOUND, "staff member not found")
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM staff_recovery WHERE staff_id = ?`, m.ID); err != nil {
		return wrap("update staff: recovery codes", err)
	}
	if err := putRecovery(ctx, tx, m.ID, m.Recovery); err != nil {
		return wrap("update staff: recovery codes", err)
	}
	return wrap("update staff: commit", tx.Commit())
}

// UseTOTPStep implements [candor.StaffStore]: one conditional UPDATE, so
// of two racing uses of a step one sees true. ENOTFOUND for no account.
func (db *DB) UseTOTPStep(ctx context.Context, id string, step int64) (bool, error) {
	res, err := db.data.w.ExecContext(ctx, `UPDATE staff SET totp_step = ? WHERE id = ? AND totp_step < ?`, step, id, step)
	if err != nil {
		return false, wrap("use totp step", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	return false, db.staffExists(ctx, id)
}

// UseRecoveryCode implements [candor.StaffStore]: one DELETE, so of two
// racing uses one sees true. ENOTFOUND for no account.
func (db *DB) UseRecoveryCode(ctx context.Context, id string, hash []byte) (bool, error) {
	res, err := db.data.w.ExecContext(ctx, `DELETE FROM staff_recovery WHERE staff_id = ? AND hash = ?`, id, hash)
	if err != nil {
		return false, wrap("use recovery code", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	return false, db.staffExists(ctx, id)
}

// staffExists returns ENOTFOUND if there is no account with the id.
func (db *DB) staffExists(ctx context.Context, id string) error {
	var n int
	if err := db.data.queryRow(ctx, `SELECT count(*) FROM staff WHERE id = ?`, id).Scan(&n); err != nil {
		return wrap("staff", err)
	}
	if n == 0 {
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
	_, err := db.data.w.ExecContext(ctx, `INSERT INTO sessions (hash, kind, principal, data, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
		s.Hash, s.Kind, s.Principal, s.Data, ts(s.CreatedAt), ts(s.ExpiresAt))
	if isConstraint(err) {
		return candor.Errorf(candor.ECONFLICT, "session exists")
	}
	return wrap("put session", err)
}

const sessionColumns = `hash, kind, principal, data, created_at, expires_at`

func scanSession(row *sql.Row) (*candor.Session, error) {
	var s candor.Session
	var created, expires string
	err := row.Scan(&s.Hash, &s.Kind, &s.Principal, &s.Data, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, candor.Errorf(candor.ENOTFOUND, "session not found")
	}
	if err != nil {
		return nil, err
	}
	s.CreatedAt, s.ExpiresAt = parseTS(created), parseTS(expires)
	return &s, nil
}

// Session implements [candor.SessionStore]: the hash is the primary key,
// compared byte for byte; a session whose ExpiresAt is not after now is
// not found.
func (db *DB) Session(ctx context.Context, hash []byte, now time.Time) (*candor.Session, error) {
	s, err := scanSession(db.data.queryRow(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE hash = ? AND expires_at > ?`, hash, ts(now)))
	return s, wrap("session", err)
}

// TakeSession implements [candor.SessionStore]: one DELETE … RETURNING on
// the writer, so of two racing takes one gets the session.
func (db *DB) TakeSession(ctx context.Context, hash []byte, kind, principal string, now time.Time) (*candor.Session, error) {
	s, err := scanSession(db.data.w.QueryRowContext(ctx, `DELETE FROM sessions WHERE hash = ? AND kind = ? AND principal = ? AND expires_at > ? RETURNING `+sessionColumns,
		hash, kind, principal, ts(now)))
	return s, wrap("take session", err)
}

// DeleteSession implements [candor.SessionStore].
func (db *DB) DeleteSession(ctx context.Context, hash []byte) error {
	_, err := db.data.w.ExecContext(ctx, `DELETE FROM sessions WHERE hash = ?`, hash)
	return wrap("delete session", err)
}

// DeleteSessions implements [candor.SessionStore].
func (db *DB) DeleteSessions(ctx context.Context, principal string) (int, error) {
	res, err := db.data.w.ExecContext(ctx, `DELETE FROM sessions WHERE principal = ?`, principal)
	if err != nil {
		return 0, wrap("delete sessions", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// PurgeSessions implements [candor.SessionStore]: it deletes the sessions
// that [DB.Session] no longer returns at now (ExpiresAt not after now).
func (db *DB) PurgeSessions(ctx context.Context, now time.Time) (int, error) {
	res, err := db.data.w.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, ts(now))
	if err != nil {
		return 0, wrap("purge sessions", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
