package vendas;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import java.io.IOException;
import org.apache.spark.sql.api.java.UDF1;

/**
 * Whether a text is one JSON value and nothing else but blanks after it (see the fact
 * {@code _json} in vendas/pipeline/rules.py).
 *
 * <p>Spark's {@code try_parse_json} reads the first value of a text and ignores whatever
 * follows it, so {@code {"id_ordem": ...} lixo} would pass for an order. Only the structure
 * is checked here (Jackson, one streaming pass, nothing kept): the VARIANT parse still says
 * whether the value itself is valid.
 */
public final class SingleJsonValue implements UDF1<String, Boolean> {
  private static final long serialVersionUID = 1L;
  private static final JsonFactory FACTORY = new JsonFactory();

  @Override
  public Boolean call(String text) {
    if (text == null) {
      return null;
    }
    try (JsonParser parser = FACTORY.createParser(text)) {
      if (parser.nextToken() == null) {
        return false;
      }
      parser.skipChildren();
      return parser.nextToken() == null;
    } catch (IOException | RuntimeException malformed) {
      return false;
    }
  }
}
