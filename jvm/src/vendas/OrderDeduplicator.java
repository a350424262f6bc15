package vendas;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.streaming.ExpiredTimerInfo;
import org.apache.spark.sql.streaming.MapState;
import org.apache.spark.sql.streaming.OutputMode;
import org.apache.spark.sql.streaming.StatefulProcessor;
import org.apache.spark.sql.streaming.TTLConfig;
import org.apache.spark.sql.streaming.TimeMode;
import org.apache.spark.sql.streaming.TimerValues;
import org.apache.spark.sql.streaming.ValueState;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import scala.Tuple2;

/**
 * The consumer's de-duplication by id_ordem (see vendas/pipeline/transforms.py): a
 * transformWithState whose per-batch cost follows the batch, not the state it keeps.
 *
 * <p>Ids are spread by hash over {@link #BUCKETS} grouping keys. Each bucket keeps a map from
 * id to the processing time of the batch that first saw it: one read and one write per new
 * id (no read while the bucket holds none). A time to live per id would cost two more (Spark
 * 4.2 reads each key before updating its expiry, and writes a second index ordered by expiry).
 * Expiry is checked when an id is read, so an id counts again exactly one window after it was
 * first seen. Space is reclaimed by one processing-time timer per bucket, every half window,
 * on a schedule staggered over the buckets: each batch sweeps the few buckets due, never the
 * whole state (which is what dropDuplicatesWithinWatermark does on every batch). An id's entry
 * is thus kept between one and one and a half windows.
 *
 * <p>No row is dropped: the output is the input's columns plus a boolean {@code duplicada},
 * true for every row of a key already seen (in an earlier batch within the window, or earlier
 * in the same batch), so that duplicates are counted downstream. Rows whose stateless column
 * is true (rejected records, keyed by their unique Kafka position) pass through, never
 * touching the state.
 */
public final class OrderDeduplicator {
  public static final String DUPLICATE_COLUMN = "duplicada";
  /**
   * Few enough that a bucket's sweep marker is read once per many ids in a large batch, many
   * enough that a sweep (a window's ids over this count, every half window over this count)
   * stays small.
   */
  static final int BUCKETS = 4096;

  private static final String BUCKET_COLUMN = "_balde";

  private OrderDeduplicator() {}

  /**
   * @param input a streaming DataFrame
   * @param keyColumn a non-null string column: the key to de-duplicate on
   * @param statelessColumn a boolean column: true for rows that skip de-duplication
   * @param windowMillis how long, in processing time, a key is remembered
   */
  public static Dataset<Row> deduplicate(
      Dataset<Row> input, String keyColumn, String statelessColumn, long windowMillis) {
    if (windowMillis <= 1) {
      throw new IllegalArgumentException("windowMillis must be at least 2: " + windowMillis);
    }
    StructType schema = input.schema();
    if (!DataTypes.StringType.sameType(schema.apply(keyColumn).dataType())
        || !DataTypes.BooleanType.sameType(schema.apply(statelessColumn).dataType())) {
      throw new IllegalArgumentException("the key must be a string, the stateless flag a boolean");
    }
    Column bucket = functions.pmod(functions.hash(input.col(keyColumn)), functions.lit(BUCKETS));
    // Last, so that a row's first schema.length() values are the input's.
    Dataset<Row> keyed = input.withColumn(BUCKET_COLUMN, bucket);
    return keyed
        .groupBy(keyed.col(BUCKET_COLUMN))
        .as(Encoders.INT(), Encoders.row(keyed.schema()))
        .transformWithState(
            new Processor(windowMillis, schema.fieldIndex(keyColumn),
                schema.fieldIndex(statelessColumn), schema.length()),
            TimeMode.ProcessingTime(),
            OutputMode.Append(),
            Encoders.row(schema.add(DUPLICATE_COLUMN, DataTypes.BooleanType, false)));
  }

  /**
   * The first sweep time of {@code bucket} at or after {@code time}: the buckets' sweeps
   * come every {@code period}, each bucket at its own offset within it.
   */
  static long nextSweep(int bucket, long time, long period) {
    long offset = period * bucket / BUCKETS;
    return time + Math.floorMod(offset - time, period);
  }

  /** Flags every row of a key after the first one within the window. */
  static final class Processor extends StatefulProcessor<Integer, Row, Row> {
    private static final long serialVersionUID = 2L;
    private final long windowMillis;
    private final long sweepPeriod;
    private final int keyIndex;
    private final int statelessIndex;
    private final int width;
    private transient MapState<String, Long> firstSeen;
    private transient ValueState<Long> nextSweep;

    Processor(long windowMillis, int keyIndex, int statelessIndex, int width) {
      this.windowMillis = windowMillis;
      this.sweepPeriod = windowMillis / 2;
      this.keyIndex = keyIndex;
      this.statelessIndex = statelessIndex;
      this.width = width;
    }

    @Override
    public void init(OutputMode outputMode, TimeMode timeMode) {
      firstSeen = getHandle().getMapState(
          "ids", Encoders.STRING(), Encoders.LONG(), TTLConfig.NONE());
      nextSweep = getHandle().getValueState("varredura", Encoders.LONG(), TTLConfig.NONE());
    }

    @Override
    public scala.collection.Iterator<Row> handleInputRows(
        Integer bucket, scala.collection.Iterator<Row> rows, TimerValues timerValues) {
      long now = timerValues.getCurrentProcessingTimeInMs();
      List<Row> out = new ArrayList<>();
      boolean checked = false; // whether the bucket's sweep was looked up
      Set<String> newIds = null; // this batch's ids, when the bucket held none before it
      while (rows.hasNext()) {
        Row row = rows.next();
        boolean duplicate = false;
        if (row.isNullAt(statelessIndex) || !row.getBoolean(statelessIndex)) {
          String id = row.getString(keyIndex);
          if (!checked) {
            // A bucket holds ids exactly while its sweep is scheduled. One that holds none
            // is not read id by id: a read of an absent key costs a C++ exception inside
            // RocksDB's Java binding, more than the read itself, and a fresh checkpoint's
            // first batch (a backlog drained) would pay it for every id.
            checked = true;
            newIds = nextSweep.exists() ? null : new HashSet<>();
          }
          if (newIds != null) {
            duplicate = !newIds.add(id);
          } else {
            Long seen = firstSeen.getValue(id); // sees this batch's own writes
            duplicate = seen != null && now - seen < windowMillis;
          }
          if (!duplicate) {
            firstSeen.updateValue(id, now);
          }
        }
        out.add(withFlag(row, duplicate));
      }
      if (newIds != null) { // it holds ids now: its first sweep
        schedule(bucket, now + windowMillis);
      }
      return scala.jdk.javaapi.CollectionConverters.asScala(out.iterator());
    }

    /** Drops the bucket's expired ids; sweeps it again in half a window while any is left. */
    @Override
    public scala.collection.Iterator<Row> handleExpiredTimer(
        Integer bucket, TimerValues timerValues, ExpiredTimerInfo expiredTimerInfo) {
      long now = timerValues.getCurrentProcessingTimeInMs();
      List<String> expired = new ArrayList<>();
      boolean kept = false;
      scala.collection.Iterator<Tuple2<String, Long>> entries = firstSeen.iterator();
      while (entries.hasNext()) {
        Tuple2<String, Long> entry = entries.next();
        if (now - entry._2() >= windowMillis) {
          expired.add(entry._1());
        } else {
          kept = true;
        }
      }
      for (String id : expired) {
        firstSeen.removeKey(id);
      }
      if (kept) {
        schedule(bucket, now + 1);
      } else {
        nextSweep.clear();
      }
      return scala.collection.Iterator.empty();
    }

    private void schedule(int bucket, long notBefore) {
      long time = nextSweep(bucket, notBefore, sweepPeriod);
      getHandle().registerTimer(time);
      nextSweep.update(time);
    }

    private Row withFlag(Row row, boolean duplicate) {
      Object[] values = new Object[width + 1];
      for (int i = 0; i < width; i++) {
        values[i] = row.get(i);
      }
      values[width] = duplicate;
      return RowFactory.create(values);
    }
  }
}
