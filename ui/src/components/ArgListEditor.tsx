import Button from "@mui/material/Button";
import IconButton from "@mui/material/IconButton";
import Stack from "@mui/material/Stack";
import TextField from "@mui/material/TextField";
import Typography from "@mui/material/Typography";
import { addArg, removeArg, setArg } from "../logic/args";

interface Props {
  label: string;
  help: string;
  /** Fields get `${testid}-${i}`, the add button `${addTestid}`. */
  testid: string;
  addTestid: string;
  fields: string[];
  onChange: (fields: string[]) => void;
  disabled?: boolean;
}

/** One argument per field: what is typed in a field is one argument, blanks and quotes included. */
export function ArgListEditor({ label, help, testid, addTestid, fields, onChange, disabled }: Props) {
  return (
    <Stack spacing={1} sx={{ minWidth: 0 }}>
      <Typography variant="body2" component="div">
        {label}
      </Typography>
      <Typography variant="caption" color="text.secondary" component="div">
        {help}
      </Typography>
      {fields.map((value, i) => (
        <Stack key={i} direction="row" spacing={1} alignItems="center" sx={{ minWidth: 0 }}>
          <TextField
            size="small"
            fullWidth
            value={value}
            disabled={disabled}
            placeholder={`argument ${i + 1}`}
            onChange={(e) => onChange(setArg(fields, i, e.target.value))}
            slotProps={{
              htmlInput: {
                "data-testid": `${testid}-${i}`,
                "aria-label": `${label}, argument ${i + 1}`,
                spellCheck: false,
                autoCapitalize: "off",
                autoCorrect: "off",
              },
            }}
          />
          <IconButton
            aria-label={`Remove argument ${i + 1}`}
            size="small"
            disabled={disabled}
            onClick={() => onChange(removeArg(fields, i))}
          >
            ×
          </IconButton>
        </Stack>
      ))}
      <div>
        <Button
          size="small"
          variant="outlined"
          data-testid={addTestid}
          disabled={disabled}
          onClick={() => onChange(addArg(fields))}
        >
          Add argument
        </Button>
      </div>
    </Stack>
  );
}
