package vendas;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.streaming.OutputMode;
import org.apache.spark.sql.streaming.StatefulProcessor;
import org.apache.spark.sql.streaming.TTLConfig;
import org.apache.spark.sql.streaming.TimeMode;
import org.apache.spark.sql.streaming.TimerValues;
import org.apache.spark.sql.streaming.ValueState;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The consumer's de-duplication by id_ordem (see vendas/pipeline/transforms.py): a
 * transformWithState whose per-batch cost follows the batch, not the state it keeps.
 *
 * <p>Each id seen keeps one ValueState with a time to live of the window, in processing time
 * from the batch that first saw it. Spark keeps such values in a second index ordered by
 * expiry and evicts with a range scan over what expired, where dropDuplicatesWithinWatermark
 * iterates over every key it keeps on every batch.
 *
 * <p>No row is dropped: the output is the input's columns plus a boolean {@code duplicada},
 * true for every row of a key already seen (in an earlier batch within the window, or earlier
 * in the same batch), so that duplicates are counted downstream. Rows whose stateless column
 * is true (rejected records, keyed by their unique Kafka position) pass through, never
 * touching the state.
 */
public final class OrderDeduplicator {
  public static final String DUPLICATE_COLUMN = "duplicada";

  private OrderDeduplicator() {}

  /**
   * @param input a streaming DataFrame
   * @param keyColumn a non-null string column: the key to de-duplicate on
   * @param statelessColumn a boolean column: true for rows that skip de-duplication
   * @param windowMillis how long, in processing time, a key is remembered
   */
  public static Dataset<Row> deduplicate(
      Dataset<Row> input, String keyColumn, String statelessColumn, long windowMillis) {
    if (windowMillis <= 0) {
      throw new IllegalArgumentException("windowMillis must be positive: " + windowMillis);
    }
    StructType schema = input.schema();
    if (!DataTypes.StringType.sameType(schema.apply(keyColumn).dataType())
        || !DataTypes.BooleanType.sameType(schema.apply(statelessColumn).dataType())) {
      throw new IllegalArgumentException("the key must be a string, the stateless flag a boolean");
    }
    // Grouped by the column itself: generated code takes the key, with no function called on
    // a Row object per record to compute it.
    return input
        .groupBy(input.col(keyColumn))
        .as(Encoders.STRING(), Encoders.row(schema))
        .transformWithState(
            new Processor(windowMillis, schema.fieldIndex(statelessColumn), schema.length()),
            TimeMode.ProcessingTime(),
            OutputMode.Append(),
            Encoders.row(schema.add(DUPLICATE_COLUMN, DataTypes.BooleanType, false)));
  }

  /** Flags every row of a key after the first one within the window. */
  static final class Processor extends StatefulProcessor<String, Row, Row> {
    private static final long serialVersionUID = 1L;
    private final long windowMillis;
    private final int statelessIndex;
    private final int width;
    private transient ValueState<Boolean> seen;

    Processor(long windowMillis, int statelessIndex, int width) {
      this.windowMillis = windowMillis;
      this.statelessIndex = statelessIndex;
      this.width = width;
    }

    @Override
    public void init(OutputMode outputMode, TimeMode timeMode) {
      seen = getHandle().getValueState(
          "visto", Encoders.BOOLEAN(), TTLConfig.apply(Duration.ofMillis(windowMillis)));
    }

    @Override
    public scala.collection.Iterator<Row> handleInputRows(
        String key, scala.collection.Iterator<Row> rows, TimerValues timerValues) {
      List<Row> out = new ArrayList<>(1); // most keys bring one row per batch
      Boolean known = null; // read once, and only if a row needs it
      while (rows.hasNext()) {
        Row row = rows.next();
        boolean duplicate = false;
        if (row.isNullAt(statelessIndex) || !row.getBoolean(statelessIndex)) {
          if (known == null) {
            known = seen.exists();
          }
          if (known) {
            duplicate = true;
          } else {
            known = Boolean.TRUE;
            seen.update(Boolean.TRUE); // lives until this batch's time + the window
          }
        }
        out.add(withFlag(row, duplicate));
      }
      return scala.jdk.javaapi.CollectionConverters.asScala(out.iterator());
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
