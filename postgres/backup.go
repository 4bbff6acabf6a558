package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/candorhq/candor"
	"github.com/jackc/pgx/v5"
)

func columnList(t candor.Table) string {
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name
		if c.Kind == candor.KindJSON {
			names[i] = c.Name + "::text"
		}
	}
	return strings.Join(names, ", ")
}

// Export calls fn for every row of the data schema (never the keys, never
// the audit log), table by table in [candor.DataTables] order, from one
// consistent snapshot.
func (db *DB) Export(ctx context.Context, fn func(candor.Row) error) error {
	err := pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		for _, t := range candor.DataTables {
			rows, err := tx.Query(ctx, db.q(`SELECT `+columnList(t)+` FROM {data}.`+t.Name))
			if err != nil {
				return err
			}
			for rows.Next() {
				vals, err := rows.Values()
				if err != nil {
					rows.Close()
					return err
				}
				for i, v := range vals {
					switch v := v.(type) {
					case time.Time:
						vals[i] = v.UTC()
					case int32:
						vals[i] = int64(v)
					}
				}
				if err := fn(candor.Row{Table: t.Name, Values: vals}); err != nil {
					rows.Close()
					return err
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("export", err)
}

// Import replaces the whole data schema with the rows that produce emits,
// in one transaction: a restore that fails leaves the data as it was.
func (db *DB) Import(ctx context.Context, produce func(emit func(candor.Row) error) error) error {
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var names []string
		for _, t := range candor.DataTables {
			names = append(names, "{data}."+t.Name)
		}
		if _, err := tx.Exec(ctx, db.q(`TRUNCATE `+strings.Join(names, ", ")+` CASCADE`)); err != nil {
			return err
		}
		tables := map[string]candor.Table{}
		for _, t := range candor.DataTables {
			tables[t.Name] = t
		}
		err := produce(func(row candor.Row) error {
			t, known := tables[row.Table]
			if !known || len(row.Values) != len(t.Columns) {
				return fmt.Errorf("a row of unknown shape for table %q", row.Table)
			}
			cols := make([]string, len(t.Columns))
			params := make([]string, len(t.Columns))
			for i, c := range t.Columns {
				cols[i], params[i] = c.Name, fmt.Sprintf("$%d", i+1)
			}
			overriding := ""
			if t.Name == "consents" {
				overriding = " OVERRIDING SYSTEM VALUE"
			}
			if _, err := tx.Exec(ctx, db.q(`INSERT INTO {data}.`+t.Name+` (`+strings.Join(cols, ", ")+`)`+overriding+` VALUES (`+strings.Join(params, ", ")+`)`), row.Values...); err != nil {
				return fmt.Errorf("%s: %w", t.Name, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if _, err = tx.Exec(ctx, db.q(`SELECT setval(pg_get_serial_sequence('{data}.consents', 'seq'), coalesce((SELECT max(seq) FROM {data}.consents), 0) + 1, false)`)); err != nil {
			return err
		}
		// Subjects removed by the restore announce nothing themselves:
		// tell every node's feed to drop all it has cached.
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, db.prefix+"_data", ResetAll)
		return err
	})
	return wrap("import", err)
}
