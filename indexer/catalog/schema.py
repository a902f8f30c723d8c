"""The catalog's schema: named, ordered steps; `PRAGMA user_version` counts how many a catalog has had."""

from __future__ import annotations

# Named, ordered schema steps. PRAGMA user_version counts how many have been applied.
MIGRATIONS: list[tuple[str, str]] = [
    (
        "initial",
        """
        CREATE TABLE roots (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE
        );
        CREATE TABLE images (
            id INTEGER PRIMARY KEY,
            root_id INTEGER NOT NULL REFERENCES roots(id),
            path TEXT NOT NULL,              -- POSIX, relative to the root (for imports: the given id)
            name TEXT NOT NULL,              -- file name, searchable
            size INTEGER,
            mtime_ns INTEGER,
            hash TEXT,                       -- blake2b of the file's bytes
            width INTEGER,
            height INTEGER,
            taken_at TEXT,                   -- EXIF DateTimeOriginal, ISO 8601
            caption TEXT,
            labels TEXT,                     -- JSON [[name, probability], ...], best first
            label_text TEXT,                 -- label names, comma separated, searchable
            status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
            error TEXT,
            embedding BLOB,                  -- float32, L2-normalized
            indexed_at REAL NOT NULL,
            UNIQUE (root_id, path)
        );
        CREATE INDEX images_hash ON images(hash);
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('vector_generation', '0');

        CREATE VIRTUAL TABLE images_fts USING fts5(
            caption, label_text, name,
            content='images', content_rowid='id',
            tokenize='porter unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER images_ai AFTER INSERT ON images BEGIN
            INSERT INTO images_fts(rowid, caption, label_text, name)
                VALUES (new.id, new.caption, new.label_text, new.name);
            UPDATE meta SET value = CAST(value AS INTEGER) + 1
                WHERE key = 'vector_generation' AND new.embedding IS NOT NULL;
        END;
        CREATE TRIGGER images_ad AFTER DELETE ON images BEGIN
            INSERT INTO images_fts(images_fts, rowid, caption, label_text, name)
                VALUES ('delete', old.id, old.caption, old.label_text, old.name);
            UPDATE meta SET value = CAST(value AS INTEGER) + 1
                WHERE key = 'vector_generation' AND old.embedding IS NOT NULL;
        END;
        CREATE TRIGGER images_au AFTER UPDATE OF caption, label_text, name ON images BEGIN
            INSERT INTO images_fts(images_fts, rowid, caption, label_text, name)
                VALUES ('delete', old.id, old.caption, old.label_text, old.name);
            INSERT INTO images_fts(rowid, caption, label_text, name)
                VALUES (new.id, new.caption, new.label_text, new.name);
        END;
        CREATE TRIGGER images_au_embedding AFTER UPDATE OF embedding ON images BEGIN
            UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'vector_generation';
        END;
        """,
    ),
    (
        "image_embeddings",
        """
        ALTER TABLE images ADD COLUMN image_embedding BLOB;  -- ResNet-18 penultimate features, L2-normalized
        ALTER TABLE images ADD COLUMN layout BLOB;  -- 8x8 grayscale thumbnail, zero-mean, unit length
        INSERT INTO meta VALUES ('image_generation', '0');
        CREATE TRIGGER images_ai_image AFTER INSERT ON images WHEN new.image_embedding IS NOT NULL BEGIN
            UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'image_generation';
        END;
        CREATE TRIGGER images_ad_image AFTER DELETE ON images WHEN old.image_embedding IS NOT NULL BEGIN
            UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'image_generation';
        END;
        CREATE TRIGGER images_au_image AFTER UPDATE OF image_embedding ON images BEGIN
            UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'image_generation';
        END;
        """,
    ),
    (
        "offline",
        """
        -- why a photo could not be seen at the last index run (its folder could not be listed, its library
        -- folder was missing or empty); NULL when it was there. Offline photos are kept, not swept.
        ALTER TABLE images ADD COLUMN offline TEXT;
        """,
    ),
    (
        "reembed",
        """
        -- `glimpse reembed`: new text embeddings are staged here, batch by batch (an interrupted run resumes),
        -- then swapped in by one transaction that also records the model and bumps the text epoch (the folder
        -- its FAISS files live in), so the old vectors and the old model serve until that moment.
        CREATE TABLE reembed (id INTEGER PRIMARY KEY, embedding BLOB NOT NULL);
        INSERT INTO meta VALUES ('reembed_model', ''), ('text_model', ''), ('embedding_dim', '0'), ('text_epoch', '0');
        """,
    ),
    (
        "label_kinds",
        """
        -- the WordNet ancestors of the photo's confident labels (hierarchy.py: golden retriever -> dog, animal...),
        -- a JSON list, nearest first; filled for the rows already there from their stored labels (no re-captioning,
        -- no re-embedding), and searchable: the full-text table gains a fourth column.
        ALTER TABLE images ADD COLUMN ancestors TEXT;
        DROP TRIGGER images_ai;
        DROP TRIGGER images_ad;
        DROP TRIGGER images_au;
        DROP TABLE images_fts;
        UPDATE images SET ancestors = glimpse_kinds(labels) WHERE labels IS NOT NULL;
        CREATE VIRTUAL TABLE images_fts USING fts5(
            caption, label_text, name, ancestors,
            content='images', content_rowid='id',
            tokenize='porter unicode61 remove_diacritics 2'
        );
        INSERT INTO images_fts(images_fts) VALUES ('rebuild');
        -- which recipe made the stored caption embeddings (pipeline.TEXT_VERSION): 1, caption and labels, for the
        -- rows already there (the next `glimpse index` or `import` re-embeds them from their stored text); 2, with
        -- the nearest kinds too, from here on
        INSERT INTO meta SELECT 'text_version',
            CASE WHEN EXISTS (SELECT 1 FROM images WHERE embedding IS NOT NULL) THEN '1' ELSE '2' END;
        CREATE TRIGGER images_ai AFTER INSERT ON images BEGIN
            INSERT INTO images_fts(rowid, caption, label_text, name, ancestors)
                VALUES (new.id, new.caption, new.label_text, new.name, new.ancestors);
            UPDATE meta SET value = CAST(value AS INTEGER) + 1
                WHERE key = 'vector_generation' AND new.embedding IS NOT NULL;
        END;
        CREATE TRIGGER images_ad AFTER DELETE ON images BEGIN
            INSERT INTO images_fts(images_fts, rowid, caption, label_text, name, ancestors)
                VALUES ('delete', old.id, old.caption, old.label_text, old.name, old.ancestors);
            UPDATE meta SET value = CAST(value AS INTEGER) + 1
                WHERE key = 'vector_generation' AND old.embedding IS NOT NULL;
        END;
        CREATE TRIGGER images_au AFTER UPDATE OF caption, label_text, name, ancestors ON images BEGIN
            INSERT INTO images_fts(images_fts, rowid, caption, label_text, name, ancestors)
                VALUES ('delete', old.id, old.caption, old.label_text, old.name, old.ancestors);
            INSERT INTO images_fts(rowid, caption, label_text, name, ancestors)
                VALUES (new.id, new.caption, new.label_text, new.name, new.ancestors);
        END;
        """,
    ),
    (
        "curation",
        """
        -- A person's caption and labels replace the models' in `caption`/`labels` (what is searched and shown);
        -- the models' own are kept beside them, and no re-index, re-caption or import overwrites a person's.
        ALTER TABLE images ADD COLUMN machine_caption TEXT;  -- the models' caption, once a person edited it
        ALTER TABLE images ADD COLUMN machine_labels TEXT;   -- the models' labels, ditto (JSON like `labels`)
        ALTER TABLE images ADD COLUMN edited_at REAL;        -- when a person last wrote them; NULL: the models'
        ALTER TABLE images ADD COLUMN review TEXT CHECK (review IN ('approved', 'edited', 'skipped'));
        ALTER TABLE images ADD COLUMN reviewed_at REAL;
        -- Each edit, with the text it replaced (`glimpse edit --undo` restores the last one). `image_id`
        -- follows the photo when a re-index gives it a new row.
        CREATE TABLE edits (
            id INTEGER PRIMARY KEY,
            image_id INTEGER NOT NULL,
            at REAL NOT NULL,
            caption_before TEXT,
            labels_before TEXT,
            edited_at_before REAL,
            review_before TEXT,
            caption TEXT,
            labels TEXT
        );
        CREATE INDEX edits_image ON edits(image_id, id);
        -- Rows whose vector changed in place (an edit keeps the photo's id): the vector index drops and re-adds
        -- those embedded after the generation it was saved at.
        CREATE TABLE reembedded (
            image_id INTEGER NOT NULL,
            kind TEXT NOT NULL,
            generation INTEGER NOT NULL
        );
        CREATE INDEX reembedded_generation ON reembedded(kind, generation);
        -- The keywords glimpse itself added to a photo's XMP sidecar at the last export (JSON: {tag: [keyword]}),
        -- so the next export replaces only those and never a keyword the user had.
        CREATE TABLE exported_keywords (image_id INTEGER PRIMARY KEY, keywords TEXT NOT NULL, at REAL NOT NULL);
        """,
    ),
]
SCHEMA_VERSION = len(MIGRATIONS)
