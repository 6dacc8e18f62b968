/**
 * The function catalog. Names are matched case-insensitively on the function's own name, whatever
 * its schema or quoting: `"PG_CATALOG"."Pg_Terminate_Backend"` still counts as dangerous (fail closed).
 */

/** Built-ins whose call can destroy data, kill sessions, reach the server's files or the network, or execute SQL text. */
export const DANGEROUS_FUNCTIONS: ReadonlyMap<string, string> = new Map([
  ['pg_terminate_backend', 'ends another session and rolls back its open transaction'],
  ['pg_cancel_backend', 'cancels another session’s running query and its work'],
  ['lo_unlink', 'deletes a large object'],
  ['lo_truncate', 'truncates a large object'],
  ['lo_truncate64', 'truncates a large object'],
  ['lo_import', 'reads a file on the database server'],
  ['lo_export', 'writes a file on the database server'],
  ['lo_put', 'overwrites part of a large object'],
  ['lowrite', 'overwrites part of a large object'],
  ['dblink', 'runs SQL on another server'],
  ['dblink_exec', 'runs SQL (possibly writes) on another server'],
  ['dblink_connect', 'opens a connection to another server'],
  ['dblink_connect_u', 'opens a connection to another server'],
  ['dblink_send_query', 'runs SQL on another server'],
  ['dblink_open', 'runs SQL on another server'],
  ['pg_drop_replication_slot', 'drops a replication slot; replicas and CDC consumers lose their place'],
  ['pg_create_logical_replication_slot', 'creates a replication slot that retains WAL until the disk fills'],
  ['pg_create_physical_replication_slot', 'creates a replication slot that retains WAL until the disk fills'],
  ['pg_replication_origin_drop', 'drops a replication origin'],
  ['pg_read_file', 'reads a file on the database server'],
  ['pg_read_binary_file', 'reads a file on the database server'],
  ['pg_ls_dir', 'lists a directory on the database server'],
  ['pg_stat_file', 'reads file metadata on the database server'],
  ['pg_ls_logdir', 'lists the server’s log directory'],
  ['pg_ls_waldir', 'lists the server’s WAL directory'],
  ['pg_ls_tmpdir', 'lists the server’s temp directory'],
  ['pg_ls_archive_statusdir', 'lists the server’s archive directory'],
  ['pg_file_write', 'writes a file on the database server'],
  ['pg_file_unlink', 'deletes a file on the database server'],
  ['pg_file_rename', 'renames a file on the database server'],
  ['pg_file_sync', 'touches a file on the database server'],
  ['pg_reload_conf', 'reloads the server configuration'],
  ['pg_rotate_logfile', 'rotates the server log'],
  ['pg_promote', 'promotes a standby to primary'],
  ['pg_switch_wal', 'forces a WAL switch'],
  ['pg_create_restore_point', 'writes a restore point'],
  ['pg_backup_start', 'starts a backup'],
  ['pg_backup_stop', 'stops a backup'],
  ['pg_start_backup', 'starts a backup'],
  ['pg_stop_backup', 'stops a backup'],
  ['pg_wal_replay_pause', 'pauses recovery'],
  ['pg_wal_replay_resume', 'resumes recovery'],
  ['pg_truncate_visibility_map', 'truncates a visibility map'],
  ['pg_logical_emit_message', 'writes into the WAL stream'],
  ['pg_replication_slot_advance', 'moves a replication slot and discards WAL'],
  ['query_to_xml', 'executes the SQL text it is given'],
  ['query_to_xmlschema', 'executes the SQL text it is given'],
  ['query_to_xml_and_xmlschema', 'executes the SQL text it is given'],
  ['ts_stat', 'executes the SQL text it is given'],
  ['table_to_xml', 'reads any table named by a value, the catalogs of password hashes included'],
  ['table_to_xmlschema', 'reads any table named by a value'],
  ['table_to_xml_and_xmlschema', 'reads any table named by a value, the catalogs of password hashes included'],
  ['schema_to_xml', 'reads every table of a schema named by a value, pg_catalog’s secrets included'],
  ['schema_to_xml_and_xmlschema', 'reads every table of a schema named by a value, pg_catalog’s secrets included'],
  ['database_to_xml', 'reads every table of the database'],
  ['database_to_xml_and_xmlschema', 'reads every table of the database'],
  ['pg_stat_reset', 'erases the statistics the planner and operators rely on'],
  ['pg_stat_reset_shared', 'erases shared statistics'],
  ['pg_stat_statements_reset', 'erases query statistics'],
  ['pg_import_system_collations', 'adds collations from the operating system'],
  ['ts_rewrite', 'can execute the SQL text it is given'],
  ['lo_manage', 'deletes large objects when the rows that name them change (a trigger of the lo extension)'],
  ['pg_log_backend_memory_contexts', 'signals another session'],
  ['pg_stat_reset_single_table_counters', 'erases statistics the planner and autovacuum rely on'],
  ['pg_stat_reset_single_function_counters', 'erases function statistics'],
  ['pg_stat_reset_slru', 'erases shared statistics'],
  ['pg_stat_reset_replication_slot', 'erases replication statistics'],
  ['pg_stat_reset_subscription_stats', 'erases subscription statistics'],
  ['pg_ls_replslotdir', 'lists a directory on the database server'],
  ['pg_ls_logicalsnapdir', 'lists a directory on the database server'],
  ['pg_ls_logicalmapdir', 'lists a directory on the database server'],
  ['pg_ls_summariesdir', 'lists a directory on the database server'],
  ['pg_logical_slot_get_changes', 'consumes a replication slot’s changes; its consumer loses them'],
  ['pg_logical_slot_get_binary_changes', 'consumes a replication slot’s changes; its consumer loses them'],
  ['pg_copy_logical_replication_slot', 'creates a replication slot that retains WAL until the disk fills'],
  ['pg_copy_physical_replication_slot', 'creates a replication slot that retains WAL until the disk fills'],
  ['pg_replication_origin_create', 'changes replication state'],
  ['pg_replication_origin_advance', 'moves a replication origin; changes may be skipped'],
  ['pg_replication_origin_session_setup', 'changes replication state'],
  ['pg_replication_origin_xact_setup', 'changes replication state'],
  ['pg_sync_replication_slots', 'changes replication state'],
  ['pg_log_standby_snapshot', 'writes into the WAL stream'],
  ['http', 'sends a request to another server'],
  ['http_get', 'sends a request to another server'],
  ['http_post', 'sends a request to another server'],
  ['http_put', 'sends a request to another server'],
  ['http_patch', 'sends a request to another server'],
  ['http_delete', 'sends a request to another server'],
  ['http_head', 'sends a request to another server'],
])

/** Functions dangerous only in the extension schema that defines them (their own names are common words). */
const DANGEROUS_IN_SCHEMA: ReadonlyMap<string, ReadonlyMap<string, string>> = new Map([
  [
    'cron',
    new Map([
      ['schedule', 'schedules SQL text that the server runs later, outside any review'],
      ['schedule_in_database', 'schedules SQL text that the server runs later, in another database'],
      ['alter_job', 'changes SQL text that the server runs later'],
    ]),
  ],
  [
    'net',
    new Map([
      ['http_get', 'sends a request to another server'],
      ['http_post', 'sends a request to another server'],
      ['http_delete', 'sends a request to another server'],
    ]),
  ],
])

/**
 * True when calling the function (by its own lower-case name, and its schema when qualified) can
 * destroy data or reach outside the transaction: the catalog above, every `dblink*` function, and
 * the schema-bound ones (`cron.schedule`, `net.http_post`).
 */
export function isDangerousFunction(key: string, schema?: string): boolean {
  if (DANGEROUS_FUNCTIONS.has(key) || key.startsWith('dblink')) return true
  return schema !== undefined && DANGEROUS_IN_SCHEMA.get(schema)?.has(key) === true
}

/** What a dangerous function does, for messages. */
export function dangerousWhat(key: string, schema?: string): string {
  return (
    DANGEROUS_FUNCTIONS.get(key) ??
    (schema === undefined ? undefined : DANGEROUS_IN_SCHEMA.get(schema)?.get(key)) ??
    'runs SQL on another server'
  )
}

/** Settings whose change through `set_config` or SET turns off a protection. */
export const PROTECTIVE_SETTINGS: ReadonlySet<string> = new Set([
  'session_replication_role',
  'default_transaction_read_only',
  'transaction_read_only',
  'row_security',
  'session_authorization',
  'role',
  'search_path',
  'check_function_bodies',
  'default_transaction_isolation',
  'lock_timeout',
  'statement_timeout',
  'idle_in_transaction_session_timeout',
  'transaction_timeout',
  'allow_system_table_mods',
  'standard_conforming_strings',
  'client_encoding',
  'backslash_quote',
])

/** Built-ins known to have no side effect beyond the value they return (or a harmless one: sequences, advisory locks). */
export const SAFE_FUNCTIONS: ReadonlySet<string> = new Set(
  `
abs acos acosd acosh age array_agg array_append array_cat array_dims array_fill array_length array_lower array_ndims
array_position array_positions array_prepend array_remove array_replace array_to_json array_to_string array_upper
ascii asin asind asinh atan atan2 atan2d atand atanh avg bit_and bit_count bit_length bit_or bit_xor bool_and bool_or
btrim cardinality cbrt ceil ceiling char_length character_length chr clock_timestamp coalesce col_description concat
concat_ws convert convert_from convert_to corr cos cosd cosh cot cotd count covar_pop covar_samp cume_dist
current_database current_query current_schema current_schemas current_setting currval date_bin date_part date_trunc
decode degrees dense_rank div encode enum_first enum_last enum_range every exp extract factorial first_value floor
format format_type gcd gen_random_uuid gen_random_bytes generate_series generate_subscripts get_bit get_byte greatest
has_any_column_privilege has_column_privilege has_database_privilege has_function_privilege has_schema_privilege
has_sequence_privilege has_table_privilege has_type_privilege hashtext host hostmask inet_client_addr inet_server_addr
initcap isempty isfinite json_agg json_array_elements json_array_elements_text json_array_length json_build_array
json_build_object json_each json_each_text json_extract_path json_extract_path_text json_object json_object_agg
json_object_keys json_populate_record json_populate_recordset json_strip_nulls json_to_record json_to_recordset
json_typeof jsonb_agg jsonb_array_elements jsonb_array_elements_text jsonb_array_length jsonb_build_array
jsonb_build_object jsonb_each jsonb_each_text jsonb_extract_path jsonb_extract_path_text jsonb_insert jsonb_object
jsonb_object_agg jsonb_object_keys jsonb_path_exists jsonb_path_match jsonb_path_query jsonb_path_query_array
jsonb_path_query_first jsonb_populate_record jsonb_populate_recordset jsonb_pretty jsonb_set jsonb_set_lax
jsonb_strip_nulls jsonb_to_record jsonb_to_recordset jsonb_typeof justify_days justify_hours justify_interval lag
last_value lastval lcm lead least left length ln localtime localtimestamp log log10 lower lpad ltrim make_date
make_interval make_time make_timestamp make_timestamptz masklen max md5 min min_scale mod mode netmask network
nextval now nth_value ntile num_nonnulls num_nulls obj_description octet_length overlay percent_rank
percentile_cont percentile_disc pg_advisory_lock pg_advisory_lock_shared pg_advisory_unlock pg_advisory_unlock_all
pg_advisory_unlock_shared pg_advisory_xact_lock pg_advisory_xact_lock_shared pg_backend_pid pg_client_encoding
pg_collation_for pg_column_size pg_current_xact_id pg_database_size pg_get_constraintdef pg_get_expr
pg_get_function_arguments pg_get_function_identity_arguments pg_get_function_result pg_get_functiondef
pg_get_indexdef pg_get_keywords pg_get_ruledef pg_get_serial_sequence pg_get_triggerdef pg_get_userbyid
pg_get_viewdef pg_has_role pg_indexes_size pg_is_in_recovery pg_jit_available pg_postmaster_start_time
pg_relation_filenode pg_relation_filepath pg_relation_size pg_size_bytes pg_size_pretty pg_sleep pg_sleep_for
pg_table_is_visible pg_table_size pg_tablespace_size pg_total_relation_size pg_try_advisory_lock
pg_try_advisory_lock_shared pg_try_advisory_xact_lock pg_try_advisory_xact_lock_shared pg_type_is_visible pg_typeof
phraseto_tsquery pi plainto_tsquery position power quote_ident quote_literal quote_nullable radians random
random_normal range_agg rank regexp_count regexp_instr regexp_like regexp_match regexp_matches regexp_replace
regexp_split_to_array regexp_split_to_table regexp_substr regr_avgx regr_avgy regr_count regr_intercept regr_r2
regr_slope regr_sxx regr_sxy regr_syy repeat replace reverse right round row_number row_to_json rpad rtrim scale
set_bit set_byte setseed setweight sha224 sha256 sha384 sha512 sign similar_escape sin sind sinh split_part sqrt
starts_with statement_timestamp stddev stddev_pop stddev_samp string_agg string_to_array string_to_table strip strpos
substr substring sum tan tand tanh timeofday timezone to_ascii to_char to_date to_hex to_json to_jsonb to_number
to_regclass to_regnamespace to_regproc to_regprocedure to_regrole to_regtype to_timestamp to_tsquery to_tsvector
transaction_timestamp translate trim_array trim_scale trunc ts_headline ts_rank ts_rank_cd tsvector_to_array
txid_current txid_current_if_assigned txid_visible_in_snapshot unistr unnest upper uuid_generate_v1
uuid_generate_v1mc uuid_generate_v4 uuidv4 uuidv7 var_pop var_samp variance version websearch_to_tsquery width_bucket
like_escape similar_to_escape overlaps xmlexists system_user pg_input_is_valid pg_input_error_info
nummultirange int4multirange int8multirange tsmultirange tstzmultirange point box circle polygon line lseg path area
center diameter radius npoints isclosed isopen parse_ident pg_describe_object pg_get_object_address pg_identify_object
pg_identify_object_as_address pg_partition_tree pg_partition_root pg_partition_ancestors pg_column_compression
json_to_tsvector jsonb_to_tsvector ts_delete ts_filter ts_debug ts_lexize numnode tsquery_phrase array_to_tsvector
xpath xpath_exists xml_is_well_formed xml_is_well_formed_document xml_is_well_formed_content jsonb_contains
jsonb_contained jsonb_exists jsonb_exists_any jsonb_exists_all jsonb_delete jsonb_delete_path regclass regtype regproc
regprocedure regoper regoperator regrole regnamespace regcollation to_regoper to_regoperator to_regcollation
to_regtypemod pg_lsn pg_trigger_depth pg_listening_channels pg_xact_status txid_status pg_visible_in_snapshot
makeaclitem acldefault aclexplode range_intersect_agg range_adjacent pg_get_partkeydef pg_get_statisticsobjdef
pg_get_function_sqlbody pg_index_column_has_property pg_indexam_has_property pg_index_has_property
pg_settings_get_flags has_foreign_data_wrapper_privilege has_server_privilege has_language_privilege
has_tablespace_privilege has_parameter_privilege has_largeobject_privilege satisfies_hash_partition
eqsel neqsel scalarltsel scalarlesel scalargtsel scalargesel eqjoinsel neqjoinsel scalarltjoinsel scalarlejoinsel
scalargtjoinsel scalargejoinsel areasel areajoinsel positionsel positionjoinsel contsel contjoinsel matchingsel
matchingjoinsel arraycontsel arraycontjoinsel tsmatchsel tsmatchjoinsel current_user session_user current_role
current_catalog user pg_current_snapshot pg_snapshot_xmin pg_snapshot_xmax pg_current_xact_id_if_assigned
xmlagg xmlcomment xmlconcat xmlelement xmlforest xmlparse xmlpi xmlroot xmlserialize normalize is_normalized
array_sample array_shuffle any_value bool bit int4 int8 text numeric float8 date time timestamp timestamptz interval
json_scalar json_serialize jsonb_path_exists_tz jsonb_path_query_tz bpchar varchar char name lower_inc upper_inc
lower_inf upper_inf range_merge daterange int4range int8range numrange tsrange tstzrange datemultirange
`
    .split(/\s+/)
    .filter((s) => s !== ''),
)

/** The lower-case own name of a function. */
export function functionKey(name: string): string {
  return name.toLowerCase()
}
